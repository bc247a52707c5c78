package check

import (
	"fmt"
	"slices"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// command lowers `verb word* name=value*` into a typed Step: the verb's
// signature, the variant its first word picks, the words bound to slots in
// order, the arguments by name with defaults filled in. It returns nil
// when the verb is unknown.
func (c *Checker) command(st *State, cmd *syntax.Command) (*Step, diag.Diagnostics) {
	sig, ok := c.env.Lookup(cmd.Verb.Name)
	if !ok {
		return nil, diag.Diagnostics{unknownVerb(cmd.Verb, c.env.Verbs())}
	}
	step := &Step{Kind: KCommand, Verb: sig.Verb, Sig: sig, Node: cmd, Span: cmd.Sp}
	v, words, d := pickVariant(st, sig, cmd)
	if d != nil {
		step.Words, step.Args, step.Explicit = map[string]Value{}, map[string]Value{}, map[string]bool{}
		return step, diag.Diagnostics{d}
	}
	slots, params := sig.Slots, sig.Params
	if v != nil {
		// The variant's slots and params follow the verb's, in buffers the
		// checker reuses: nothing keeps them past this call.
		step.Variant = v.Name
		c.slotBuf = append(append(c.slotBuf[:0], sig.Slots...), v.Slots...)
		c.paramBuf = append(append(c.paramBuf[:0], sig.Params...), v.Params...)
		slots, params = c.slotBuf, c.paramBuf
	}
	step.Words = make(map[string]Value, len(slots))
	step.Args = make(map[string]Value, len(params))
	step.Explicit = make(map[string]bool, len(cmd.Args))
	ds := bindWords(st, step, slots, words)
	ds = append(ds, bindArgs(st, step, params, cmd.Args)...)
	return step, ds
}

func unknownVerb(verb *syntax.Ident, verbs []string) *diag.Diagnostic {
	return diag.Errorf(verb.Sp, fmt.Sprintf("unknown verb %q", verb.Name)).
		WithDetail(didYouMean(verb.Name, "verbs", verbs))
}

// pickVariant chooses the variant named by the first word (which may be a
// loop variable), or the default variant; it returns the remaining words.
func pickVariant(st *State, sig *Signature, cmd *syntax.Command) (*Variant, []syntax.Expr, *diag.Diagnostic) {
	if len(sig.Variants) == 0 {
		return nil, cmd.Words, nil
	}
	words := cmd.Words
	if len(words) > 0 {
		w, _ := eval(st, words[0])
		if v := sig.Variant(w.Str); w.Kind == VIdent && v != nil {
			return v, words[1:], nil
		}
		if def := sig.Variant(sig.DefaultVariant); def == nil || len(def.Slots) == 0 {
			return nil, nil, unknownVariant(sig, w)
		}
	}
	if def := sig.Variant(sig.DefaultVariant); def != nil {
		return def, words, nil
	}
	return nil, nil, diag.Errorf(cmd.Sp, fmt.Sprintf("%s needs a %s: %s", sig.Verb, sig.variantNoun(), joinOr(sig.VariantNames()))).
		WithDetail("usage: " + sig.Usage(""))
}

func unknownVariant(sig *Signature, w Value) *diag.Diagnostic {
	noun := sig.variantNoun()
	if w.Kind != VIdent {
		return diag.Errorf(w.Span, fmt.Sprintf("%s needs a %s first (%s), not %s", sig.Verb, noun, joinOr(sig.VariantNames()), valueNoun(w)))
	}
	return diag.Errorf(w.Span, fmt.Sprintf("unknown %s %q", noun, w.Str)).
		WithDetail(didYouMean(w.Str, plural(noun), sig.VariantNames()))
}

// bindWords assigns words to slots in order. A Repeated slot takes every
// remaining word; an Optional slot may be left out (its Default fills it).
func bindWords(st *State, step *Step, slots []Param, words []syntax.Expr) diag.Diagnostics {
	var ds diag.Diagnostics
	wi := 0
	for i := range slots {
		p := &slots[i]
		if p.Repeated {
			ds = append(ds, bindRepeated(st, step, p, words[wi:])...)
			wi = len(words)
			continue
		}
		if wi >= len(words) {
			if d := missingWord(step, p); d != nil && !ds.HasErrors() {
				ds = append(ds, d)
			}
			continue
		}
		ds = append(ds, bindValue(st, step.Words, p, words[wi])...)
		wi++
	}
	if wi < len(words) {
		ds = append(ds, tooManyWords(step, len(slots), words[wi]))
	}
	return ds
}

func bindRepeated(st *State, step *Step, p *Param, words []syntax.Expr) diag.Diagnostics {
	if len(words) == 0 {
		if d := missingWord(step, p); d != nil {
			return diag.Diagnostics{d}
		}
		return nil
	}
	var ds diag.Diagnostics
	list := Value{Kind: VList, Span: words[0].Span(), List: make([]Value, 0, len(words))}
	for _, w := range words {
		v, d := typed(st, w, p)
		if d != nil {
			ds = append(ds, d)
			continue
		}
		list.List = append(list.List, v)
		list.Span = joinSpan(list.Span, w.Span())
	}
	step.Words[p.Name] = list
	return ds
}

// missingWord fills a left-out slot's default, or reports it (nil when
// leaving it out is fine).
func missingWord(step *Step, p *Param) *diag.Diagnostic {
	if p.Optional || p.Default != nil {
		if p.Default != nil {
			step.Words[p.Name] = DefaultValue(p)
		}
		return nil
	}
	return diag.Errorf(step.Span, fmt.Sprintf("%s is missing %s", step.title(), slotLabel(p))).
		WithDetail("usage: " + step.Sig.Usage(step.Variant))
}

// slotLabel names a slot in messages: `the word "with"`, `its activation`.
func slotLabel(p *Param) string {
	switch {
	case p.Type == TKeyword:
		return fmt.Sprintf("the word %q", p.Values[0])
	case p.Noun != "":
		return "its " + p.Noun
	}
	return "its " + p.Name
}

func tooManyWords(step *Step, n int, w syntax.Expr) *diag.Diagnostic {
	return diag.Errorf(w.Span(), fmt.Sprintf("too many words: %s takes %s", step.title(), countWords(n))).
		WithDetail("usage: " + step.Sig.Usage(step.Variant))
}

func countWords(n int) string {
	switch n {
	case 0:
		return "no words"
	case 1:
		return "one word"
	}
	return fmt.Sprintf("%d words", n)
}

// typed evaluates e and types it for p.
func typed(st *State, e syntax.Expr, p *Param) (Value, *diag.Diagnostic) {
	v, d := eval(st, e)
	if d != nil {
		return Value{}, d
	}
	return coerce(st, v, p)
}

func bindValue(st *State, into map[string]Value, p *Param, e syntax.Expr) diag.Diagnostics {
	v, d := typed(st, e, p)
	if d != nil {
		return diag.Diagnostics{d}
	}
	into[p.Name] = v
	return nil
}

// bindArgs types `name=value` arguments; unknown and duplicate names are
// errors, missing required ones too, and defaults fill the rest.
func bindArgs(st *State, step *Step, params []Param, args []*syntax.Arg) diag.Diagnostics {
	var ds diag.Diagnostics
	for j, a := range args {
		name := a.Name.Name
		i := paramIndex(params, name)
		switch {
		case i < 0:
			ds = append(ds, unknownArg(step, params, a))
		case firstArg(args[:j], name) != nil:
			first := firstArg(args[:j], name)
			ds = append(ds, diag.Errorf(a.Sp, fmt.Sprintf("duplicate argument %q", name)).
				WithDetail(fmt.Sprintf("%s is already given at %d:%d; keep one", name, first.Sp.Start.Line, first.Sp.Start.Column)))
		default:
			step.Explicit[name] = true
			ds = append(ds, bindValue(st, step.Args, &params[i], a.Value)...)
		}
	}
	return append(ds, fillArgs(st, step, params)...)
}

// paramIndex is the index of the param named name, or -1.
func paramIndex(params []Param, name string) int {
	for i := range params {
		if params[i].Name == name {
			return i
		}
	}
	return -1
}

// firstArg is the first of args named name, or nil (commands have a few
// arguments: a scan beats a map).
func firstArg(args []*syntax.Arg, name string) *syntax.Arg {
	for _, a := range args {
		if a.Name.Name == name {
			return a
		}
	}
	return nil
}

func fillArgs(st *State, step *Step, params []Param) diag.Diagnostics {
	var ds diag.Diagnostics
	for i := range params {
		p := &params[i]
		if step.Explicit[p.Name] {
			continue
		}
		if p.Required {
			ds = append(ds, diag.Errorf(step.Span, fmt.Sprintf("%s needs %s=", step.title(), p.Name)).
				WithDetail(fmt.Sprintf("%s: %s; usage: %s", p.Name, typeNoun(p), step.Sig.Usage(step.Variant))))
			continue
		}
		if v, ok := st.DataArgs[p.Inherit]; ok && p.Inherit != "" {
			step.Args[p.Name] = v
			step.inherit(p.Name, st.DataFrom[p.Inherit])
			continue
		}
		if p.Default != nil && applies(step, p) {
			step.Args[p.Name] = DefaultValue(p)
		}
	}
	return ds
}

// applies reports whether one of p.When is among the step's words.
func applies(step *Step, p *Param) bool {
	if len(p.When) == 0 {
		return true
	}
	for _, w := range step.Words {
		for _, x := range append([]Value{w}, w.List...) {
			if x.Kind == VIdent && slices.Contains(p.When, x.Str) {
				return true
			}
		}
	}
	return false
}

func unknownArg(step *Step, params []Param, a *syntax.Arg) *diag.Diagnostic {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	d := diag.Errorf(a.Name.Sp, fmt.Sprintf("unknown argument %q for %s", a.Name.Name, step.title()))
	detail := didYouMean(a.Name.Name, "arguments", names)
	if len(names) == 0 {
		detail = step.title() + " takes no arguments"
	}
	if others := step.Sig.variantsWithParam(a.Name.Name); len(others) > 0 && step.Variant != "" {
		detail = fmt.Sprintf("%s is an argument of %s %s, not of %s; %s", a.Name.Name, step.Verb, joinNames(others), step.title(), detail)
	}
	return d.WithDetail(detail)
}

// title is "quantize log2" or "replace".
func (s *Step) title() string {
	if s.Variant != "" {
		return s.Verb + " " + s.Variant
	}
	return s.Verb
}
