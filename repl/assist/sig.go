package assist

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// Variant returns the variant of sig that word names, or nil.
func Variant(sig *check.Signature, word string) *check.Variant {
	if sig == nil {
		return nil
	}
	for i := range sig.Variants {
		if sig.Variants[i].Name == word {
			return &sig.Variants[i]
		}
	}
	return nil
}

// variantFor picks the variant named by the first word, else the default.
func variantFor(sig *check.Signature, words []string) *check.Variant {
	if len(words) > 0 {
		if v := Variant(sig, words[0]); v != nil {
			return v
		}
	}
	return Variant(sig, sig.DefaultVariant)
}

// Params lists the arguments a verb accepts under a variant (nil: none).
func Params(sig *check.Signature, v *check.Variant) []check.Param {
	out := append([]check.Param(nil), sig.Params...)
	if v != nil {
		out = append(out, v.Params...)
	}
	return out
}

// Slots lists the word slots of a verb under a variant (nil: none).
func Slots(sig *check.Signature, v *check.Variant) []check.Param {
	out := append([]check.Param(nil), sig.Slots...)
	if v != nil {
		out = append(out, v.Slots...)
	}
	return out
}

// FindParam finds argument name of sig in any variant, preferring v's.
func FindParam(sig *check.Signature, v *check.Variant, name string) (check.Param, bool) {
	for _, p := range Params(sig, v) {
		if p.Name == name {
			return p, true
		}
	}
	for _, vv := range sig.Variants {
		for _, p := range vv.Params {
			if p.Name == name {
				return p, true
			}
		}
	}
	return check.Param{}, false
}

var typeNames = map[check.Type]string{
	check.TInt: "int", check.TFloat: "number", check.TFraction: "fraction",
	check.TString: "string", check.TPath: "path", check.TEnum: "enum",
	check.TKeyword: "keyword", check.TName: "new name", check.TSnapshot: "snapshot",
	check.TBool: "bool", check.TList: "list", check.TCall: "enum or call",
	check.TDuration: "duration", check.TBytes: "size", check.TExpr: "expression",
	check.TNameOrPath: "name or path",
}

// TypeName is the word help uses for a type.
func TypeName(p check.Param) string {
	name, ok := typeNames[p.Type]
	if !ok {
		name = "value"
	}
	if p.Type == check.TList {
		return "list of " + TypeName(check.Param{Type: p.Elem})
	}
	return name
}

// ParamDoc describes one argument or slot on one line:
// `bits: int in [1, 8], default 8 (bits) — weight bit width`.
func ParamDoc(p check.Param) string {
	var b strings.Builder
	b.WriteString(p.Name + ": " + TypeName(p))
	if len(p.Values) > 0 && p.Type != check.TKeyword {
		b.WriteString(" (" + strings.Join(p.Values, ", ") + ")")
	}
	if r := rangeText(p); r != "" {
		b.WriteString(" " + r)
	}
	if p.Required {
		b.WriteString(", required")
	}
	if p.Default != nil {
		b.WriteString(", default " + valueText(p.Default))
	}
	if p.Unit != "" {
		b.WriteString(" [" + p.Unit + "]")
	}
	if p.Doc != "" {
		b.WriteString(" — " + p.Doc)
	}
	return b.String()
}

// rangeText renders inclusive or open bounds: `in [1, 8]`, `> 0`.
func rangeText(p check.Param) string {
	switch {
	case p.Min != nil && p.Max != nil:
		open := "["
		if p.MinOpen {
			open = "("
		}
		return fmt.Sprintf("in %s%s, %s]", open, num(*p.Min), num(*p.Max))
	case p.Min != nil && p.MinOpen:
		return "> " + num(*p.Min)
	case p.Min != nil:
		return ">= " + num(*p.Min)
	case p.Max != nil:
		return "<= " + num(*p.Max)
	}
	return ""
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return num(v)
	case float32:
		return num(float64(v))
	}
	return fmt.Sprint(v)
}

// SignatureDoc is a verb's help: summary, paragraph, forms, words,
// arguments and examples, as plain text.
func SignatureDoc(sig *check.Signature) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s\n", sig.Verb, sig.Summary)
	if sig.Doc != "" {
		fmt.Fprintf(&b, "\n%s\n", sig.Doc)
	}
	writeParams(&b, "words", sig.Slots)
	writeParams(&b, "arguments", sig.Params)
	for _, v := range sig.Variants {
		head := "variant " + v.Name
		if v.Name == sig.DefaultVariant {
			head += " (default)"
		}
		fmt.Fprintf(&b, "\n%s: %s\n", head, v.Doc)
		writeParams(&b, "  words", v.Slots)
		writeParams(&b, "  arguments", v.Params)
	}
	if len(sig.Examples) > 0 {
		b.WriteString("\nexamples:\n")
		for _, e := range sig.Examples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	return b.String()
}

func writeParams(b *strings.Builder, title string, ps []check.Param) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n", title)
	indent := strings.Repeat(" ", len(title)-len(strings.TrimLeft(title, " ")))
	for _, p := range ps {
		fmt.Fprintf(b, "%s  %s\n", indent, ParamDoc(p))
	}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
