package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// typeNoun says in words what a param accepts, for messages.
func typeNoun(p *Param) string {
	switch p.Type {
	case TInt:
		return "an integer"
	case TFloat:
		return "a number"
	case TFraction:
		return "a fraction (0.5 or 50%)"
	case TString:
		return "a quoted string"
	case TPath:
		return "a quoted file path"
	case TEnum, TCall:
		return "one of " + strings.Join(p.Values, ", ")
	case TKeyword:
		return strconv.Quote(p.Values[0])
	case TName, TSnapshot:
		return "a name"
	case TBool:
		return "true or false"
	case TList:
		e := *p
		e.Type = p.Elem
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(typeNoun(&e), "an "), "a ")
	case TDuration, TBytes:
		return familyName(p.Type)
	case TNameOrPath:
		return "a name or a quoted file path"
	}
	return "an expression"
}

// valueNoun says in words what a value is: "a float", "a string" ...
func valueNoun(v Value) string {
	switch v.Kind {
	case VInt:
		return "an integer"
	case VFloat:
		return floatNoun(v)
	case VString:
		return "a string"
	case VIdent:
		return "the name " + v.Str
	case VBool:
		return "a boolean"
	case VList:
		return "a list"
	case VCall:
		return "a call"
	case VExpr:
		return "a reference to run-time state"
	}
	return "nothing"
}

func floatNoun(v Value) string {
	switch {
	case v.Unit == "%":
		return "a percent"
	case v.Unit != "":
		return fmt.Sprintf("a %s (%s)", shortFamily(unitFamily(v.Unit)), v.Unit)
	}
	return "a float"
}

// wordText quotes what was written at a word position.
func wordText(v Value) string {
	if v.Kind == VIdent {
		return strconv.Quote(v.Str)
	}
	return valueNoun(v)
}

// valueText prints a checked value as a user would write it.
func valueText(v Value) string {
	switch v.Kind {
	case VInt:
		return strconv.FormatInt(v.Int, 10)
	case VFloat:
		return floatText(v)
	case VString:
		return strconv.Quote(v.Str)
	case VIdent, VCall:
		return v.Str
	case VBool:
		return strconv.FormatBool(v.Bool)
	case VList:
		return listText(v.List)
	}
	return "?"
}

func floatText(v Value) string {
	switch {
	case v.Unit == "%":
		return num(v.Float*100) + "%"
	case v.Unit != "":
		return num(v.Float/units[v.Unit].scale) + v.Unit
	}
	return num(v.Float)
}

func listText(vs []Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = valueText(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// num prints a number the short way: 16, 0.5, 1e-06.
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
