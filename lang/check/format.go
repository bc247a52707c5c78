package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// String renders a value the way a recipe writes it, from its kind
// alone: the one printer of values that plan, run, REPL, help and report
// share. Percents print as percents; times in seconds and sizes in bytes
// (the units the checker stores them in); floats in the shortest form that
// reads back exactly.
func (v Value) String() string {
	switch v.Kind {
	case VInt:
		return strconv.FormatInt(v.Int, 10) + v.Unit
	case VFloat:
		return formatFloat(v)
	case VString:
		return strconv.Quote(v.Str)
	case VIdent:
		return v.Str
	case VBool:
		return strconv.FormatBool(v.Bool)
	case VList:
		return "[" + joinValues(v.List) + "]"
	case VCall:
		return v.Str + "(" + joinValues(v.List) + ")"
	}
	return "none"
}

// timeUnits are the checker's time units; it stores times in seconds and
// sizes (units ending in B) in bytes.
var timeUnits = []string{"ns", "us", "ms", "s", "min", "h"}

// formatFloat prints percents as written and other quantities in their
// family's base unit.
func formatFloat(v Value) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case v.Unit == "%":
		return num(v.Float*100) + "%"
	case slices.Contains(timeUnits, v.Unit):
		return num(v.Float) + "s"
	case strings.HasSuffix(v.Unit, "B"):
		return num(v.Float) + "B"
	}
	return num(v.Float)
}

func joinValues(vs []Value) string {
	parts := make([]string, len(vs))
	for i, x := range vs {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

// FormatMetric prints a measured metric for people: accuracies as
// percents with two decimals (`80.50%`), sizes and counts as integers,
// times in milliseconds, the rest with four significant digits. Reports
// keep the full-precision number; this is what people read.
func FormatMetric(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "accuracy"):
		return fmt.Sprintf("%.2f%%", v*100)
	case name == "size" || name == "size_bytes" || name == "file_bytes" || name == "params" || strings.HasSuffix(name, "_samples"):
		return fmt.Sprintf("%.0f", v)
	case name == "latency":
		return fmt.Sprintf("%.4gms", v*1000)
	}
	return fmt.Sprintf("%.4g", v)
}
