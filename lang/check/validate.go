package check

import (
	"fmt"
	"slices"
)

// ValidateSignature reports mistakes in a signature itself (not in a
// recipe): defaults that fail their own type or range, enums without
// values, lists without an element type, a DefaultVariant that does not
// exist, a slot after a repeated one, a metric of a non-metric type. The
// standard library's tests run it over every verb.
func ValidateSignature(sig *Signature) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(sig.Verb+": "+format, a...)) }
	if sig.Verb == "" || sig.Summary == "" || sig.Doc == "" {
		add("verb, summary and doc are required")
	}
	if sig.DefaultVariant != "" && sig.Variant(sig.DefaultVariant) == nil {
		add("default variant %q does not exist", sig.DefaultVariant)
	}
	errs = append(errs, validateParams(sig.Verb, sig.Slots, sig.Params)...)
	for _, v := range sig.Variants {
		errs = append(errs, validateParams(sig.Verb+" "+v.Name, append(slices.Clip(sig.Slots), v.Slots...), append(slices.Clip(sig.Params), v.Params...))...)
	}
	for _, m := range sig.Metrics {
		if !slices.Contains([]Type{TInt, TFloat, TFraction, TDuration, TBytes}, m.Type) {
			add("metric %s has a type expect cannot compare", m.Name)
		}
	}
	return errs
}

func validateParams(where string, slots, params []Param) []error {
	var errs []error
	for i, p := range slots {
		if p.Repeated && i != len(slots)-1 {
			errs = append(errs, fmt.Errorf("%s: slot %s follows a repeated slot", where, slots[i+1].Name))
		}
		errs = append(errs, validateParam(where, &p)...)
	}
	seen := map[string]bool{}
	for _, p := range params {
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("%s: argument %s is declared twice", where, p.Name))
		}
		seen[p.Name] = true
		errs = append(errs, validateParam(where, &p)...)
	}
	return errs
}

func validateParam(where string, p *Param) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", where, p.Name, fmt.Sprintf(format, a...)))
	}
	switch {
	case (p.Type == TEnum || p.Type == TKeyword) && len(p.Values) == 0,
		p.Type == TList && p.Elem == TList,
		p.Type == TCall && len(p.Values)+len(p.Calls) == 0:
		bad("incomplete type (values, element type or calls missing)")
	}
	if p.Default == nil {
		return errs
	}
	v := DefaultValue(p)
	values := []Value{v}
	if p.Repeated {
		values = v.List
	}
	for _, w := range values {
		if _, d := coerce(NewState(), w, p); d != nil && p.Type != TSnapshot {
			bad("default %s fails its own check: %s", valueText(w), d.Summary)
		}
	}
	return errs
}
