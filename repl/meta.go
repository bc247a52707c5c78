package repl

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/repl/assist"
)

// metaCommand is one `:name` command of the REPL.
type metaCommand struct {
	name, args, doc string
	run             func(s *Session, ctx context.Context, arg string)
}

var metaCommands []metaCommand

func init() {
	metaCommands = []metaCommand{
		{"help", "[VERB]", "list verbs and commands, or show a verb's words and arguments", (*Session).help},
		{"plan", "", "show what has run and what the statements so far would do", (*Session).plan},
		{"state", "", "show the model binding, snapshots, flags and parameters", (*Session).state},
		{"metrics", "", "show the metrics the steps so far evaluate", (*Session).metrics},
		{"undo", "", "go back to the state before the last statement", (*Session).undoLast},
		{"save", "FILE", "write the statements so far as a formatted .qpipe recipe", (*Session).save},
		{"load", "FILE", "run the statements of a recipe file", (*Session).load},
		{"quit", "", "leave the REPL (also Ctrl-D)", func(s *Session, _ context.Context, _ string) { s.done = true }},
	}
}

// meta runs `:name args`.
func (s *Session) meta(ctx context.Context, text string) {
	name, arg, _ := strings.Cut(strings.TrimSpace(text), " ")
	arg = strings.TrimSpace(arg)
	for _, m := range metaCommands {
		if m.name == name || (name == "q" && m.name == "quit") || (name == "exit" && m.name == "quit") {
			m.run(s, ctx, arg)
			return
		}
	}
	s.say("unknown command :%s; :help lists the commands", name)
}

func (s *Session) completeMeta(text string) (string, []assist.Candidate) {
	name, arg, spaced := strings.Cut(text, " ")
	if !spaced {
		var out []assist.Candidate
		for _, m := range metaCommands {
			if strings.HasPrefix(m.name, name) {
				out = append(out, assist.Candidate{Text: ":" + m.name, Kind: assist.KKeyword, Detail: m.doc})
			}
		}
		return ":" + name, out
	}
	if name != "help" {
		return arg, nil
	}
	var out []assist.Candidate
	for _, v := range s.opts.Env.Verbs() {
		if strings.HasPrefix(v, arg) {
			out = append(out, assist.Candidate{Text: v, Kind: assist.KVerb})
		}
	}
	return arg, out
}

func (s *Session) help(_ context.Context, verb string) {
	if verb != "" {
		sig, ok := s.opts.Env.Lookup(verb)
		if !ok {
			s.say("unknown verb %q%s", verb, didYouMean(verb, s.opts.Env.Verbs()))
			return
		}
		fmt.Fprint(s.opts.Out, assist.SignatureDoc(sig))
		return
	}
	s.say("Type recipe statements; each is checked against the live state. Commands:")
	for _, m := range metaCommands {
		s.say("  %-14s %s", strings.TrimSpace(":"+m.name+" "+m.args), m.doc)
	}
	s.say("Verbs:")
	for _, v := range s.opts.Env.Verbs() {
		sig, _ := s.opts.Env.Lookup(v)
		s.say("  %-14s %s", v, sig.Summary)
	}
}

func didYouMean(name string, known []string) string {
	if sug := check.Suggest(name, known); len(sug) > 0 {
		return "; did you mean " + strings.Join(sug, ", ") + "?"
	}
	return ""
}

func (s *Session) undoLast(_ context.Context, _ string) {
	if len(s.entries) == 0 {
		s.say("nothing to undo")
		return
	}
	last := s.entries[len(s.entries)-1]
	s.rollback(len(s.entries) - 1)
	s.say("undid line: %s", last.text)
}

func (s *Session) state(_ context.Context, _ string) {
	st := s.checker.State()
	s.say("model: %s", boundText(st.ModelLoaded, s.opts.Model))
	s.say("data: %s", boundText(st.DataLoaded, s.opts.Data))
	s.stepTable("snapshots", st.Snapshots)
	s.stepTable("flags", st.Flags)
	names := sortedKeys(st.Params)
	if len(names) == 0 {
		s.say("parameters: none")
	}
	for i, n := range names {
		if i == 0 {
			s.say("parameters:")
		}
		s.say("  %s = %s", n, valueString(st.Values[n]))
	}
	if s.exec != nil {
		s.say("%s", s.exec.Summary())
	}
}

func boundText(loaded bool, flag string) string {
	switch {
	case loaded && flag != "":
		return flag + " (from the command line)"
	case loaded:
		return "bound by the recipe"
	}
	return "none yet"
}

// stepTable prints names mapped to the step that made them.
func (s *Session) stepTable(title string, m map[string]*check.Step) {
	if len(m) == 0 {
		s.say("%s: none", title)
		return
	}
	s.say("%s:", title)
	for _, k := range sortedKeys(m) {
		s.say("  %-12s %s", k, s.stepRef(m[k]))
	}
}

// stepRef names the accepted statement that made something.
func (s *Session) stepRef(st *check.Step) string {
	if st == nil || !st.Span.IsValid() {
		return "(from the command line)"
	}
	for i, e := range s.entries {
		if e.step == st {
			return fmt.Sprintf("(statement %d: %s)", i+1, HistoryLine(e.text))
		}
	}
	return fmt.Sprintf("(%s)", st.Verb)
}

func (s *Session) metrics(_ context.Context, _ string) {
	st := s.checker.State()
	if len(st.Metrics) == 0 {
		s.say("no metrics yet; `evaluate` records them")
		return
	}
	var measured map[string]float64
	if s.exec != nil {
		measured = s.exec.Metrics()
	}
	names := sortedKeys(st.Metrics)
	sort.Strings(names)
	for _, n := range names {
		v, ok := measured[n]
		value := "not measured (execution is not available yet)"
		if ok {
			value = check.FormatMetric(n, v)
		} else if s.exec != nil {
			value = "not measured yet"
		}
		s.say("  %-12s %s %s", n, value, s.stepRef(st.Metrics[n]))
	}
}

// save writes the recipe typed so far, formatted.
func (s *Session) save(_ context.Context, path string) {
	if path == "" {
		s.say("usage: :save FILE")
		return
	}
	out, err := s.recipe(path)
	if err == nil {
		err = os.WriteFile(path, out, 0o644)
	}
	if err != nil {
		s.say("cannot save: %v", err)
		return
	}
	s.say("saved %s to %s", statementCount(len(s.entries)), path)
}

func (s *Session) load(ctx context.Context, path string) {
	if path == "" {
		s.say("usage: :load FILE")
		return
	}
	text, err := os.ReadFile(path)
	if err != nil {
		s.say("cannot load: %v", err)
		return
	}
	n := len(s.entries)
	if s.statements(ctx, path, text) {
		s.say("loaded %s from %s", statementCount(len(s.entries)-n), path)
	}
}

// statementCount is "1 statement" or "N statements".
func statementCount(n int) string {
	if n == 1 {
		return "1 statement"
	}
	return fmt.Sprintf("%d statements", n)
}
