package repl

import (
	"sort"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/repl/assist"
)

// describe says what a checked step will do: its head and its resolved
// arguments, the ones left to defaults marked.
func describe(st *check.Step) string {
	var b strings.Builder
	b.WriteString("checked: " + headOf(st))
	var defaults []string
	for _, name := range argOrder(st) {
		text := name + "=" + valueString(st.Args[name])
		if st.Explicit[name] {
			b.WriteString(" " + text)
		} else {
			defaults = append(defaults, text)
		}
	}
	if len(defaults) > 0 {
		b.WriteString(" (defaults: " + strings.Join(defaults, " ") + ")")
	}
	return b.String()
}

// headOf is the verb, its variant and its words.
func headOf(st *check.Step) string {
	parts := []string{st.Verb}
	switch st.Kind {
	case check.KLet:
		return "let " + st.Name + " = " + valueString(st.Value)
	case check.KRepeat:
		return "repeat " + strconv.Itoa(st.Count) + " { " + strconv.Itoa(len(st.Body)) + " steps }"
	case check.KFor:
		return "for " + st.Name + " in " + strconv.Itoa(len(st.Over)) + " values { " + strconv.Itoa(len(st.Body)) + " steps }"
	}
	if st.Variant != "" {
		parts = append(parts, st.Variant)
	}
	for _, name := range wordOrder(st) {
		parts = append(parts, valueString(st.Words[name]))
	}
	return strings.Join(parts, " ")
}

// wordOrder lists the step's word slots in signature order.
func wordOrder(st *check.Step) []string {
	var out []string
	if st.Sig == nil {
		return sortedKeys(st.Words)
	}
	for _, p := range assist.Slots(st.Sig, st.Sig.Variant(st.Variant)) {
		if v, ok := st.Words[p.Name]; ok && v.Kind != check.VNone {
			out = append(out, p.Name)
		}
	}
	return out
}

// argOrder lists the step's arguments in signature order, then any other.
func argOrder(st *check.Step) []string {
	var out []string
	seen := map[string]bool{}
	if st.Sig != nil {
		for _, p := range allParams(st.Sig) {
			if _, ok := st.Args[p.Name]; ok && !seen[p.Name] {
				out, seen[p.Name] = append(out, p.Name), true
			}
		}
	}
	for _, k := range sortedKeys(st.Args) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

func allParams(sig *check.Signature) []check.Param {
	out := append([]check.Param(nil), sig.Params...)
	for _, v := range sig.Variants {
		out = append(out, v.Params...)
	}
	return out
}

// valueString writes a checked value the way the planner shows it; the
// words of a repeated slot (evaluate accuracy latency) stay blank-separated.
func valueString(v check.Value) string {
	if v.Kind == check.VList && v.Expr == nil {
		parts := make([]string, len(v.List))
		for i, x := range v.List {
			parts[i] = x.String()
		}
		return strings.Join(parts, " ")
	}
	return v.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
