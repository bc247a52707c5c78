package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// helpWidth is the column prose is wrapped at.
const helpWidth = 78

// verbHelp renders a signature as `qpipe help VERB` prints it: summary,
// usage of each form, the paragraph of documentation, the words and the
// arguments (type, range, unit, default, doc), the variants with theirs,
// the metrics it records, and examples.
func verbHelp(sig *check.Signature) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\nusage:\n", sig.Verb, sig.Summary)
	for _, u := range usages(sig) {
		fmt.Fprintf(&b, "  %s\n", u)
	}
	if sig.Doc != "" {
		b.WriteString("\n" + wrap(sig.Doc, "", helpWidth))
	}
	section(&b, "words", sig.Slots, true)
	section(&b, "arguments", sig.Params, false)
	variants(&b, sig)
	metrics(&b, sig.Metrics)
	if len(sig.Examples) > 0 {
		b.WriteString("\nexamples:\n")
		for _, e := range sig.Examples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	return b.String()
}

func usages(sig *check.Signature) []string {
	if len(sig.Variants) == 0 {
		return []string{sig.Usage("")}
	}
	var out []string
	for _, v := range sig.Variants {
		u := sig.Usage(v.Name)
		if v.Name == sig.DefaultVariant {
			u += "   (the default: the word " + v.Name + " may be left out)"
		}
		out = append(out, u)
	}
	return out
}

func variants(b *strings.Builder, sig *check.Signature) {
	if len(sig.Variants) == 0 {
		return
	}
	noun := sig.VariantNoun
	if noun == "" {
		noun = "variant"
	}
	fmt.Fprintf(b, "\n%ss:\n", noun)
	for _, v := range sig.Variants {
		fmt.Fprintf(b, "  %s\n", v.Name)
		if v.Doc != "" {
			b.WriteString(wrap(v.Doc, "      ", helpWidth))
		}
	}
	for _, v := range sig.Variants {
		section(b, "words of "+sig.Verb+" "+v.Name, v.Slots, true)
		section(b, "arguments of "+sig.Verb+" "+v.Name, v.Params, false)
	}
}

// section lists params under a heading, one line of facts each followed
// by its documentation. Word slots are required unless marked optional;
// arguments are optional unless marked required.
func section(b *strings.Builder, title string, params []check.Param, words bool) {
	if len(params) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	for i := range params {
		p := &params[i]
		fmt.Fprintf(b, "  %s  %s\n", p.Name, paramFacts(p, words))
		if p.Doc != "" {
			b.WriteString(wrap(p.Doc, "      ", helpWidth))
		}
	}
}

// paramFacts is "integer in [2, 8] bits, required" or
// "number > 0, default 0.0001".
func paramFacts(p *check.Param, word bool) string {
	facts := typeText(p)
	if r := rangeText(p); r != "" {
		facts += " " + r
	}
	if p.Unit != "" && p.Unit != "fraction" {
		facts += " (" + p.Unit + ")"
	}
	switch {
	case p.Required:
		facts += ", required"
	case p.Repeated:
		facts += ", one or more"
	}
	if p.Default != nil {
		facts += ", default " + check.DefaultValue(p).String()
	} else if (word && p.Optional) || (!word && !p.Required) {
		facts += ", optional"
	}
	return facts
}

// typeText says what a param accepts.
func typeText(p *check.Param) string {
	switch p.Type {
	case check.TInt:
		return "integer"
	case check.TFloat:
		return "number"
	case check.TFraction:
		return "fraction (0.5 or 50%)"
	case check.TString:
		return "quoted string"
	case check.TPath:
		return "quoted path"
	case check.TEnum:
		return "one of " + strings.Join(p.Values, ", ")
	case check.TCall:
		return "one of " + strings.Join(append(append([]string{}, p.Values...), callForms(p)...), ", ")
	case check.TKeyword:
		return "the word " + strconv.Quote(p.Values[0])
	case check.TName:
		return "new name"
	case check.TSnapshot:
		return "snapshot name"
	case check.TBool:
		return "true or false"
	case check.TList:
		elem := *p
		elem.Type = p.Elem
		return "list of " + typeText(&elem) + " (or a range a..b)"
	case check.TDuration:
		return "time (ns, us, ms, s, min, h)"
	case check.TBytes:
		return "size (B, KB, MB, GB, KiB, MiB, GiB)"
	case check.TNameOrPath:
		return "one of " + strings.Join(p.Values, ", ") + ", or a quoted path"
	}
	return "expression"
}

func callForms(p *check.Param) []string {
	var out []string
	for _, c := range p.Calls {
		args := make([]string, len(c.Params))
		for i, a := range c.Params {
			args[i] = a.Name
		}
		out = append(out, c.Name+"("+strings.Join(args, ", ")+")")
	}
	return out
}

// rangeText renders a param's bounds: "in [2, 8]", "> 0", "in [0, 1)".
func rangeText(p *check.Param) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case p.Min != nil && p.Max != nil:
		lo, hi := "[", "]"
		if p.MinOpen {
			lo = "("
		}
		if p.MaxOpen {
			hi = ")"
		}
		return "in " + lo + num(*p.Min) + ", " + num(*p.Max) + hi
	case p.Min != nil && p.MinOpen:
		return "> " + num(*p.Min)
	case p.Min != nil:
		return ">= " + num(*p.Min)
	case p.Max != nil && p.MaxOpen:
		return "< " + num(*p.Max)
	case p.Max != nil:
		return "<= " + num(*p.Max)
	}
	return ""
}

func metrics(b *strings.Builder, ms []check.Metric) {
	if len(ms) == 0 {
		return
	}
	b.WriteString("\nrecords metrics:\n")
	for _, m := range ms {
		when := ""
		if m.When != "" {
			when = " (with " + m.When + ")"
		}
		fmt.Fprintf(b, "  %s%s: %s\n", m.Name, when, m.Doc)
	}
}

// wrap fills text into lines of at most width columns, each starting
// with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
	return b.String()
}
