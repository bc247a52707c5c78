package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// Options are the bindings a recipe gets from outside.
type Options struct {
	// ModelBound and DataBound say that the command line (--model,
	// --data) or qpipe.hcl supplies the model / the dataset; such a
	// binding wins over the recipe's own `model` / `data` line.
	ModelBound, DataBound bool
	// Sets are --set overrides of `let` values, parsed as values of the
	// let's type; a key no let defines is an error.
	Sets map[string]string
	// DataArgs are data-line arguments the binding sets (a qpipe.hcl
	// dataset's batch=): they win over the recipe's data line, as the
	// run's binding does, and steps inherit them (Param.Inherit) the way
	// they inherit the data line's.
	DataArgs map[string]Value
	// RequireExecutable makes a step the Env cannot execute (see
	// Executability) an error instead of a warning: qpipe run refuses
	// the recipe before anything runs.
	RequireExecutable bool
}

// Checker checks statements one at a time against a simulated pipeline
// State. Check uses it for whole files; the REPL and the language server
// feed it statements as they come.
type Checker struct {
	env     Env
	opts    Options
	st      *State
	steps   []*Step
	metrics map[string]Metric
	// producer is the statement that records each metric ("evaluate
	// latency"), for the hint on a metric never evaluated.
	producer map[string]string
	setUsed  map[string]bool
	// file is set by Check: an error is then reported once per cause and
	// the state advances past statements with errors, to avoid cascades.
	file bool
	once map[string]bool
	// again is set while a repeat body is checked the second time (nested
	// repeats then check once, keeping the cost linear in the nesting);
	// fanout is the number of branches the enclosing for loops make.
	again  bool
	fanout int
	// slotBuf and paramBuf hold a command's slots and params while it is
	// typed (command.go).
	slotBuf, paramBuf []Param
}

// NewChecker starts a checker at the empty pipeline, or with the model and
// data already bound when opts says so.
func NewChecker(env Env, opts Options) *Checker {
	c := &Checker{env: env, opts: opts, st: NewState(), setUsed: map[string]bool{}, once: map[string]bool{}, fanout: 1}
	c.metrics, c.producer = collectMetrics(env)
	if opts.ModelBound {
		c.st.LoadModel(&Step{Kind: KCommand, Verb: "model", Name: "--model"})
	}
	c.st.DataLoaded = opts.DataBound
	if opts.DataBound {
		c.st.inheritData(nil, opts.DataArgs)
	}
	return c
}

// collectMetrics gathers every metric any verb records, for expect.
func collectMetrics(env Env) (map[string]Metric, map[string]string) {
	out, producer := map[string]Metric{}, map[string]string{}
	for _, verb := range env.Verbs() {
		sig, ok := env.Lookup(verb)
		if !ok {
			continue
		}
		for _, m := range sig.Metrics {
			if _, seen := out[m.Name]; !seen {
				out[m.Name] = m
				producer[m.Name] = strings.TrimSpace(verb + " " + m.When)
			}
		}
	}
	return out, producer
}

// Stmt checks one statement. The state advances (and the step joins
// Steps) only when there are no errors, so a REPL can reject a line and
// carry on. The step is returned whenever the verb is known.
func (c *Checker) Stmt(s syntax.Stmt) (*Step, diag.Diagnostics) {
	st := c.st.Clone()
	step, ds := c.stmt(st, s)
	ds = dedupe(ds)
	if !ds.HasErrors() {
		c.st = st
		if step != nil {
			c.steps = append(c.steps, step)
		}
	}
	return step, ds
}

// State returns the current simulated state (do not modify it).
func (c *Checker) State() *State { return c.st }

// Steps returns the steps accepted so far.
func (c *Checker) Steps() []*Step { return c.steps }

// Clone returns an independent checker at the same point (REPL :undo).
func (c *Checker) Clone() *Checker {
	out := *c
	out.slotBuf, out.paramBuf = nil, nil // scratch, never shared
	out.st = c.st.Clone()
	out.steps = slices.Clone(c.steps)
	out.setUsed = maps.Clone(c.setUsed)
	out.once = maps.Clone(c.once)
	return &out
}

// Finish reports what only the end of a recipe shows: --set keys that no
// let used.
func (c *Checker) Finish() diag.Diagnostics {
	var ds diag.Diagnostics
	for _, k := range sortedKeys(c.opts.Sets) {
		if !c.setUsed[k] {
			ds = append(ds, unknownSet(k, c.st))
		}
	}
	return ds
}

func unknownSet(key string, st *State) *diag.Diagnostic {
	var lets []string
	for name, step := range st.Params {
		if step.Kind == KLet {
			lets = append(lets, name)
		}
	}
	slices.Sort(lets)
	d := &diag.Diagnostic{Severity: diag.Error, Summary: fmt.Sprintf("--set %s: the recipe has no `let %s`", key, key)}
	if len(lets) == 0 {
		return d.WithDetail("--set overrides a let of the recipe, and this recipe has none")
	}
	return d.WithDetail(didYouMean(key, "parameters", lets))
}

// Check parses nothing: it checks a parsed file and returns every step it
// could type, with all diagnostics of the file (sorted by position, each
// note right after the diagnostic it explains).
func Check(f *syntax.File, env Env, opts Options) (*Recipe, diag.Diagnostics) {
	c := NewChecker(env, opts)
	c.file = true
	var ds diag.Diagnostics
	for _, s := range f.Stmts {
		step, sds := c.stmt(c.st, s)
		ds = append(ds, sds...)
		if step != nil {
			c.steps = append(c.steps, step)
		}
	}
	ds = sortKeepingNotes(append(dedupe(ds), c.Finish()...))
	return &Recipe{File: f, Steps: c.steps, Lets: lets(c.steps)}, ds
}

// lets collects every let's value, blocks included.
func lets(steps []*Step) map[string]Value {
	out := map[string]Value{}
	var walk func([]*Step)
	walk = func(steps []*Step) {
		for _, s := range steps {
			if s.Kind == KLet {
				out[s.Name] = s.Value
			}
			walk(s.Body)
		}
	}
	walk(steps)
	return out
}

// dedupe drops repeated diagnostics (a repeat body is checked twice, a for
// body once per value).
func dedupe(ds diag.Diagnostics) diag.Diagnostics {
	type key struct {
		file       string
		start, end int
		sev        diag.Severity
		summary    string
	}
	seen := map[key]bool{}
	out := ds[:0:0]
	for _, d := range ds {
		k := key{d.Span.File, d.Span.Start.Offset, d.Span.End.Offset, d.Severity, d.Summary}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

// CheckSource parses and checks a recipe text: the syntax errors and the
// checker's diagnostics together, sorted by position.
func CheckSource(name string, text []byte, env Env, opts Options) (*Recipe, diag.Diagnostics) {
	f, ds := syntax.Parse(name, text)
	rec, cds := Check(f, env, opts)
	return rec, sortKeepingNotes(append(ds, cds...))
}
