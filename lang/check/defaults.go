package check

import "fmt"

// DefaultValue turns a Param's Default into a checked Value; nil for
// none. Defaults are written in Go: int, float64, string (an identifier
// for name-like types, text for strings and paths), bool, []int,
// []float64, []string, or a Value.
func DefaultValue(p *Param) Value {
	switch d := p.Default.(type) {
	case nil:
		return Value{}
	case Value:
		return d
	case int:
		return intDefault(p.Type, int64(d))
	case float64:
		return Value{Kind: VFloat, Float: d}
	case bool:
		return Value{Kind: VBool, Bool: d}
	case string:
		return stringDefault(p.Type, d)
	}
	return listDefault(p)
}

func intDefault(t Type, i int64) Value {
	if t == TInt || t == TList {
		return Value{Kind: VInt, Int: i}
	}
	return Value{Kind: VFloat, Float: float64(i)}
}

func stringDefault(t Type, s string) Value {
	if t == TString || t == TPath {
		return Value{Kind: VString, Str: s}
	}
	return Value{Kind: VIdent, Str: s}
}

func listDefault(p *Param) Value {
	out := Value{Kind: VList, List: []Value{}}
	switch d := p.Default.(type) {
	case []int:
		for _, x := range d {
			out.List = append(out.List, intDefault(p.Elem, int64(x)))
		}
	case []float64:
		for _, x := range d {
			out.List = append(out.List, Value{Kind: VFloat, Float: x})
		}
	case []string:
		for _, x := range d {
			out.List = append(out.List, stringDefault(p.Elem, x))
		}
	default:
		panic(fmt.Sprintf("check: param %s has a default of unsupported type %T", p.Name, p.Default))
	}
	return out
}
