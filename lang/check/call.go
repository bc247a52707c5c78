package check

import (
	"fmt"
	"slices"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// coerceCall types a TCall value: a plain name out of Values, or a call
// such as percentile(99.99) matching one of Calls, its arguments bound
// positionally or by name (VCall.List in the form's parameter order, with
// defaults filled in).
func coerceCall(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	switch v.Kind {
	case VIdent:
		return callName(v, p)
	case VCall:
		return callForm(st, v, p)
	}
	return Value{}, mismatch(v, p)
}

func callNames(p *Param) []string {
	names := slices.Clone(p.Values)
	for _, c := range p.Calls {
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

func callName(v Value, p *Param) (Value, *diag.Diagnostic) {
	if slices.Contains(p.Values, v.Str) {
		return v, nil
	}
	if f := findForm(p, v.Str); f != nil {
		return Value{}, diag.Errorf(v.Span, fmt.Sprintf("%s needs arguments: %s", v.Str, formUsage(f)))
	}
	return Value{}, unknownValue(v, p, callNames(p))
}

func findForm(p *Param, name string) *CallForm {
	for i := range p.Calls {
		if p.Calls[i].Name == name {
			return &p.Calls[i]
		}
	}
	return nil
}

// formUsage is "percentile(P)".
func formUsage(f *CallForm) string {
	s := f.Name + "("
	for i, a := range f.Params {
		if i > 0 {
			s += ", "
		}
		s += a.Name
	}
	return s + ")"
}

func callForm(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	f := findForm(p, v.Str)
	if f == nil {
		if slices.Contains(p.Values, v.Str) {
			return Value{}, diag.Errorf(v.Span, fmt.Sprintf("%s takes no arguments; write it without parentheses", v.Str))
		}
		return Value{}, unknownValue(v, p, callNames(p))
	}
	args, d := bindCallArgs(st, v, f)
	if d != nil {
		return Value{}, d
	}
	v.List = args
	return v, nil
}

func bindCallArgs(st *State, v Value, f *CallForm) ([]Value, *diag.Diagnostic) {
	if len(v.List) > len(f.Params) {
		return nil, diag.Errorf(v.List[len(f.Params)].Span, fmt.Sprintf("too many arguments: %s", formUsage(f)))
	}
	out := make([]Value, len(f.Params))
	set := make([]bool, len(f.Params))
	for i, a := range v.List {
		w, d := coerce(st, a, &f.Params[i])
		if d != nil {
			return nil, d
		}
		out[i], set[i] = w, true
	}
	if d := bindNamedCallArgs(st, v, f, out, set); d != nil {
		return nil, d
	}
	return fillCallDefaults(v, f, out, set)
}

func bindNamedCallArgs(st *State, v Value, f *CallForm, out []Value, set []bool) *diag.Diagnostic {
	call, _ := v.Expr.(*syntax.Call)
	if call == nil {
		return nil
	}
	for _, a := range call.Args {
		i := slices.IndexFunc(f.Params, func(p Param) bool { return p.Name == a.Name.Name })
		if i < 0 {
			return diag.Errorf(a.Name.Sp, fmt.Sprintf("unknown argument %q for %s", a.Name.Name, formUsage(f)))
		}
		if set[i] {
			return diag.Errorf(a.Sp, fmt.Sprintf("duplicate argument %q", a.Name.Name))
		}
		w, d := eval(st, a.Value)
		if d == nil {
			w, d = coerce(st, w, &f.Params[i])
		}
		if d != nil {
			return d
		}
		out[i], set[i] = w, true
	}
	return nil
}

func fillCallDefaults(v Value, f *CallForm, out []Value, set []bool) ([]Value, *diag.Diagnostic) {
	for i := range f.Params {
		if set[i] {
			continue
		}
		if f.Params[i].Default == nil {
			return nil, diag.Errorf(v.Span, fmt.Sprintf("%s is missing %s: %s", v.Str, f.Params[i].Name, formUsage(f)))
		}
		out[i] = DefaultValue(&f.Params[i])
	}
	return out, nil
}
