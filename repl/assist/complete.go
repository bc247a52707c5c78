package assist

import (
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// Kind says what a completion candidate is.
type Kind int

const (
	// KVerb is a verb from the standard library.
	KVerb Kind = iota
	// KKeyword is a statement keyword of the language (let, expect, ...).
	KKeyword
	// KVariant is a variant word such as `int8` after `quantize`.
	KVariant
	// KWord is a word-slot value (an enum value or a fixed word).
	KWord
	// KArg is an argument name, inserted with its `=`.
	KArg
	// KValue is an argument value (enum value, call, bool).
	KValue
	// KSnapshot is a snapshot name from the live state.
	KSnapshot
	// KParam is a `let` parameter or loop variable in scope.
	KParam
	// KMetric is a metric some earlier step evaluates.
	KMetric
)

// Candidate is one completion: Text replaces the partial field.
type Candidate struct {
	Text   string
	Kind   Kind
	Detail string // one line: a summary or the argument's type
}

// Keywords are the statement forms the grammar knows itself.
var Keywords = []string{"let", "expect", "repeat", "for"}

// Complete returns the candidates for the field ending at the end of text,
// where text is everything before the cursor (earlier statements and lines
// included; only the last statement counts). Partial is the part of the
// field being completed that every Text starts with and replaces. st may
// be nil.
func Complete(env check.Env, st *check.State, text string) (partial string, out []Candidate) {
	fields := Fields(CurrentStatement(text))
	if len(fields) == 0 {
		fields = []string{""}
	}
	last := fields[len(fields)-1]
	var words []string
	if len(fields) > 1 {
		words = fields[1 : len(fields)-1]
	}
	c := &completer{env: env, st: st}
	partial, out = c.field(fields[0], words, last, len(fields) == 1)
	return partial, filter(out, partial)
}

type completer struct {
	env check.Env
	st  *check.State
}

func (c *completer) field(verb string, words []string, last string, atVerb bool) (string, []Candidate) {
	if atVerb {
		return last, c.verbs()
	}
	switch verb {
	case "expect", "let":
		return c.expr(last)
	case "repeat", "for":
		return last, c.params()
	}
	sig, ok := c.env.Lookup(verb)
	if !ok {
		return last, nil
	}
	if name, val, isArg := strings.Cut(last, "="); isArg {
		p, _ := FindParam(sig, variantFor(sig, plain(words)), name)
		partial := valuePartial(val)
		return partial, c.values(p)
	}
	if strings.Contains(last, ".") {
		return c.expr(last)
	}
	return last, c.wordsAndArgs(sig, words)
}

// verbs lists keywords and every verb with its summary.
func (c *completer) verbs() []Candidate {
	var out []Candidate
	for _, k := range Keywords {
		out = append(out, Candidate{Text: k, Kind: KKeyword, Detail: "statement keyword"})
	}
	for _, v := range c.env.Verbs() {
		sig, _ := c.env.Lookup(v)
		d := ""
		if sig != nil {
			d = sig.Summary
		}
		out = append(out, Candidate{Text: v, Kind: KVerb, Detail: d})
	}
	return out
}

// wordsAndArgs offers variant words, the next slots' values and the
// arguments not given yet.
func (c *completer) wordsAndArgs(sig *check.Signature, fields []string) []Candidate {
	words := plain(fields)
	var out []Candidate
	if len(words) == 0 {
		for _, v := range sig.Variants {
			out = append(out, Candidate{Text: v.Name, Kind: KVariant, Detail: v.Doc})
		}
	}
	v := variantFor(sig, words)
	slotWords := words
	if len(words) > 0 && Variant(sig, words[0]) != nil {
		slotWords = words[1:]
	}
	for _, p := range nextSlots(Slots(sig, v), slotWords) {
		out = append(out, c.slotValues(p)...)
	}
	given := map[string]bool{}
	for _, f := range fields {
		if name, _, ok := strings.Cut(f, "="); ok {
			given[name] = true
		}
	}
	for _, p := range Params(sig, v) {
		if !given[p.Name] {
			out = append(out, Candidate{Text: p.Name + "=", Kind: KArg, Detail: ParamDoc(p)})
		}
	}
	return out
}

func (c *completer) slotValues(p check.Param) []Candidate {
	if p.Type == check.TKeyword || p.Type == check.TEnum || p.Type == check.TNameOrPath || p.Type == check.TCall {
		var out []Candidate
		for _, v := range p.Values {
			out = append(out, Candidate{Text: v, Kind: KWord, Detail: p.Name + ": " + TypeName(p)})
		}
		return out
	}
	return c.values(p)
}

// values offers what an argument of type p may be.
func (c *completer) values(p check.Param) []Candidate {
	var out []Candidate
	switch p.Type {
	case check.TEnum, check.TNameOrPath:
		for _, v := range p.Values {
			out = append(out, Candidate{Text: v, Kind: KValue, Detail: p.Name})
		}
	case check.TCall:
		for _, v := range p.Values {
			out = append(out, Candidate{Text: v, Kind: KValue, Detail: p.Name})
		}
		for _, f := range p.Calls {
			out = append(out, Candidate{Text: f.Name + "(", Kind: KValue, Detail: f.Doc})
		}
	case check.TSnapshot:
		out = c.snapshots()
	case check.TBool:
		out = []Candidate{{Text: "true", Kind: KValue}, {Text: "false", Kind: KValue}}
	case check.TInt, check.TFloat, check.TFraction, check.TExpr, check.TList:
		out = c.params()
	}
	return out
}

// expr completes inside an expression: `teacher.` offers metrics, a bare
// name offers snapshots, metrics and parameters.
func (c *completer) expr(last string) (string, []Candidate) {
	partial := valuePartial(last)
	if i := strings.LastIndexByte(partial, '.'); i >= 0 {
		return partial[i+1:], c.metrics()
	}
	out := append(c.snapshots(), c.metrics()...)
	return partial, append(out, c.params()...)
}

func (c *completer) snapshots() []Candidate {
	if c.st == nil {
		return nil
	}
	var out []Candidate
	for _, name := range sortedKeys(c.st.Snapshots) {
		out = append(out, Candidate{Text: name, Kind: KSnapshot, Detail: "snapshot" + definedAt(c.st.Snapshots[name])})
	}
	return out
}

func (c *completer) metrics() []Candidate {
	if c.st == nil {
		return nil
	}
	var out []Candidate
	for _, name := range sortedKeys(c.st.Metrics) {
		out = append(out, Candidate{Text: name, Kind: KMetric, Detail: "metric" + definedAt(c.st.Metrics[name])})
	}
	return out
}

func (c *completer) params() []Candidate {
	if c.st == nil {
		return nil
	}
	var out []Candidate
	for _, name := range sortedKeys(c.st.Params) {
		out = append(out, Candidate{Text: name, Kind: KParam, Detail: "parameter" + definedAt(c.st.Params[name])})
	}
	return out
}

func definedAt(s *check.Step) string {
	if s == nil || !s.Span.IsValid() {
		return ""
	}
	return " from line " + itoa(s.Line())
}

// filter keeps the candidates starting with partial, without duplicates,
// sorted by kind then text.
func filter(cs []Candidate, partial string) []Candidate {
	seen := map[string]bool{}
	var out []Candidate
	for _, c := range cs {
		if strings.HasPrefix(c.Text, partial) && !seen[c.Text] {
			seen[c.Text] = true
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Text < out[j].Text
	})
	return out
}
