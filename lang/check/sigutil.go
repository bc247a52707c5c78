package check

import (
	"strings"

	"github.com/qpipe/qpipe/lang/source"
)

// Variant returns the named variant, or nil.
func (s *Signature) Variant(name string) *Variant {
	for i := range s.Variants {
		if s.Variants[i].Name == name {
			return &s.Variants[i]
		}
	}
	return nil
}

// VariantNames lists the variant words in declaration order.
func (s *Signature) VariantNames() []string {
	out := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		out[i] = v.Name
	}
	return out
}

func (s *Signature) variantNoun() string {
	if s.VariantNoun != "" {
		return s.VariantNoun
	}
	return "variant"
}

// ParamsOf returns the verb's arguments followed by the variant's.
func (s *Signature) ParamsOf(variant string) []Param {
	out := append([]Param(nil), s.Params...)
	if v := s.Variant(variant); v != nil {
		out = append(out, v.Params...)
	}
	return out
}

// SlotsOf returns the verb's word slots followed by the variant's.
func (s *Signature) SlotsOf(variant string) []Param {
	out := append([]Param(nil), s.Slots...)
	if v := s.Variant(variant); v != nil {
		out = append(out, v.Slots...)
	}
	return out
}

// Usage is the one-line shape of the verb (or one variant of it):
// `replace FROM with TO [name=value ...]`, `quantize log2 bits=N ...`.
func (s *Signature) Usage(variant string) string {
	parts := []string{s.Verb}
	switch {
	case variant != "":
		parts = append(parts, variant)
	case len(s.Variants) > 0:
		parts = append(parts, strings.Join(s.VariantNames(), "|"))
	}
	for _, p := range s.SlotsOf(variant) {
		parts = append(parts, slotUsage(p))
	}
	optional := false
	for _, p := range s.ParamsOf(variant) {
		if p.Required {
			parts = append(parts, p.Name+"="+strings.ToUpper(p.Name))
		} else {
			optional = true
		}
	}
	if optional {
		parts = append(parts, "[name=value ...]")
	}
	return strings.Join(parts, " ")
}

func slotUsage(p Param) string {
	label := strings.ToUpper(p.Name)
	if p.Type == TKeyword && len(p.Values) > 0 {
		label = p.Values[0]
	}
	if p.Repeated {
		label += "..."
	}
	if p.Optional {
		label = "[" + label + "]"
	}
	return label
}

// variantsWithParam names the variants that take an argument called name.
func (s *Signature) variantsWithParam(name string) []string {
	var out []string
	for _, v := range s.Variants {
		for _, p := range v.Params {
			if p.Name == name {
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// joinNames is "a, b and c".
func joinNames(names []string) string { return joinWith(names, " and ") }

// joinOr is "a, b or c".
func joinOr(names []string) string { return joinWith(names, " or ") }

func joinWith(names []string, last string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + last + names[len(names)-1]
}

func joinSpan(a, b source.Span) source.Span { return source.Join(a, b) }
