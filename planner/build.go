package planner

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// Build lays a checked recipe out as a graph. The recipe must have checked
// without errors; Plan fails only when it has nothing to plan or when
// unrolling would exceed Options.MaxNodes.
func Build(rec *check.Recipe, opts Options) (*Plan, error) {
	if rec == nil || rec.File == nil {
		return nil, errors.New("planner: no recipe to plan")
	}
	b := &builder{
		opts: opts,
		src:  rec.File.Source,
		plan: &Plan{Recipe: rec.File.Name, Nodes: []*Node{}, Edges: []Edge{}},
	}
	b.limit = written(rec.Steps) + opts.maxNodes()
	st := newState(rec.Lets, opts)
	b.bind(rec.Steps, st)
	if err := b.steps(rec.Steps, nil, st); err != nil {
		return nil, err
	}
	b.plan.Total = total(b.plan.Nodes, b.model != nil)
	setKeys(b.plan, b.src, opts.Keys)
	return b.plan, nil
}

type builder struct {
	opts  Options
	limit int // nodes allowed: the statements written plus Options.MaxNodes
	tops  int // top-level nodes so far (counted, not rescanned: plans of 100,000 lines)
	src   *source.File
	plan  *Plan
	// work counts the work nodes added so far.
	work int
	// model and data are the resolved inputs (Options.ModelInfo and
	// DataInfo, or what Options.Resolve found); nil when unknown.
	model ModelInfo
	data  DataInfo
}

// written counts the steps as the recipe writes them, blocks' bodies
// once: the plan of a long recipe without repeats is never refused.
func written(steps []*check.Step) int {
	n := 0
	for _, s := range steps {
		n += 1 + written(s.Body)
	}
	return n
}

// chain makes n, just added, the next work node of its branch: it starts
// from the state the branch's previous work node left, and the nodes
// after it start from its own.
func (b *builder) chain(n *Node, s *check.Step, st *state) {
	n.Step, n.Scope, n.Index = s, maps.Clone(st.vars), b.work
	b.work++
	if st.prev >= 0 {
		n.Inputs = []int{st.prev}
	}
	st.prev = n.ID
}

// errTooLarge stops the walk when unrolling outgrows Options.MaxNodes.
var errTooLarge = errors.New("too large")

// add numbers n under parent (nil for top level) and appends it.
func (b *builder) add(n *Node, parent *Node) error {
	if len(b.plan.Nodes) >= b.limit {
		return fmt.Errorf("planner: unrolling repeat blocks adds more than %d nodes to the %d statements written: %w",
			b.opts.maxNodes(), b.limit-b.opts.maxNodes(), errTooLarge)
	}
	n.ID = len(b.plan.Nodes)
	n.Parent = -1
	if n.Args == nil {
		n.Args = []Arg{}
	}
	if n.Reads == nil {
		n.Reads = []string{}
	}
	if n.Writes == nil {
		n.Writes = []string{}
	}
	if n.Children == nil {
		n.Children = []int{}
	}
	n.Index, n.Inputs = -1, []int{}
	if parent == nil {
		b.tops++
		n.Label = strconv.Itoa(b.tops)
	} else {
		n.Parent = parent.ID
		n.Label = parent.Label + "." + strconv.Itoa(len(parent.Children)+1)
		parent.Children = append(parent.Children, n.ID)
	}
	b.plan.Nodes = append(b.plan.Nodes, n)
	return nil
}

func (b *builder) steps(steps []*check.Step, parent *Node, st *state) error {
	for _, s := range steps {
		if err := b.step(s, parent, st); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) step(s *check.Step, parent *Node, st *state) error {
	switch s.Kind {
	case check.KLet:
		return b.let(s, parent, st)
	case check.KExpect:
		return b.expect(s, parent, st)
	case check.KRepeat:
		return b.repeat(s, parent, st)
	case check.KFor:
		return b.forLoop(s, parent, st)
	}
	return b.command(s, parent, st)
}

// located returns a node of kind k placed at s's position.
func located(k Kind, s *check.Step) *Node {
	return &Node{Kind: k, Verb: s.Verb, Line: s.Span.Start.Line, Column: s.Span.Start.Column}
}

func (b *builder) command(s *check.Step, parent *Node, st *state) error {
	eff := genericEffects(s, st)
	if b.opts.Effects != nil {
		eff = b.opts.Effects(s, eff)
	}
	n := located(KindStep, s)
	n.Variant = s.Variant
	n.Text = b.head(s, st)
	n.Args = b.args(s, st)
	n.Reads, n.Writes = eff.Reads, eff.Writes
	n.Note = b.overrideNote(s)
	if sp := sparsityNote(s, st); sp != "" && n.Note == "" {
		n.Note = sp
	}
	if err := b.add(n, parent); err != nil {
		return err
	}
	b.chain(n, s, st)
	b.flow(n, st)
	if s.Sig != nil && s.Sig.Effects.LoadsData && len(eff.Writes) > 0 {
		st.data = eff.Writes[0]
	}
	if eff.Bits > 0 {
		st.bits = eff.Bits
	}
	b.reshape(n, s, st)
	n.Cost = b.cost(n, eff, st)
	n.Model = b.modelState(n, st)
	return nil
}

// flow adds an edge from each read's writer, then records n's writes.
func (b *builder) flow(n *Node, st *state) {
	for _, r := range n.Reads {
		if w, ok := st.writers[r]; ok {
			b.plan.Edges = append(b.plan.Edges, Edge{From: w, To: n.ID, Resource: r})
		}
	}
	for _, w := range n.Writes {
		st.writers[w] = n.ID
	}
}

// head is the statement as written up to its arguments, with bound names
// replaced; a variant the recipe did not name is shown in parentheses.
func (b *builder) head(s *check.Step, st *state) string {
	parts := []string{s.Verb}
	cmd, ok := s.Node.(*syntax.Command)
	if ok {
		for _, w := range cmd.Words {
			parts = append(parts, st.vars.show(b.src, check.Value{Expr: w}))
		}
	}
	if s.Variant != "" && (len(parts) < 2 || parts[1] != s.Variant) {
		parts = append(parts, "("+s.Variant+")")
	}
	return strings.Join(parts, " ")
}

// args resolves every argument in signature order, then any others the
// step carries in name order.
func (b *builder) args(s *check.Step, st *state) []Arg {
	var out []Arg
	seen := map[string]bool{}
	for _, p := range params(s) {
		if v, ok := s.Args[p.Name]; ok && !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, Arg{Name: p.Name, Value: st.vars.show(b.src, v), Default: !s.Explicit[p.Name], From: s.Inherited[p.Name]})
		}
	}
	for _, name := range sortedKeys(s.Args) {
		if !seen[name] {
			out = append(out, Arg{Name: name, Value: st.vars.show(b.src, s.Args[name]), Default: !s.Explicit[name], From: s.Inherited[name]})
		}
	}
	return out
}

func (b *builder) let(s *check.Step, parent *Node, st *state) error {
	n := located(KindLet, s)
	v := s.Value
	if over, ok := st.vars[s.Name]; ok {
		v = over
	}
	st.vars[s.Name] = v
	shown := b.letValue(s, v)
	n.Bind = s.Name + "=" + shown
	n.Text = "let " + s.Name + " = " + shown
	if s.Expr != nil && shown != spanText(b.src, s.Expr.Span()) {
		n.Note = "set on the command line; the recipe says " + spanText(b.src, s.Expr.Span())
	}
	if err := b.add(n, parent); err != nil {
		return err
	}
	b.chain(n, s, st)
	return nil
}

// letValue shows a let's value as the recipe wrote it, unless --set
// replaced it (the checker keeps the recipe's expression on the new value).
func (b *builder) letValue(s *check.Step, v check.Value) string {
	if s.Expr == nil || !sameLiteral(s.Expr, v) {
		return v.String()
	}
	return spanText(b.src, s.Expr.Span())
}

// sameLiteral reports whether e, a literal, denotes v; anything that is
// not a plain literal compares by its rendering.
func sameLiteral(e syntax.Expr, v check.Value) bool {
	switch e := e.(type) {
	case *syntax.Number:
		return (v.Kind == check.VInt || v.Kind == check.VFloat) && v.Number() == e.Value
	case *syntax.Percent:
		return v.Kind == check.VFloat && v.Float == e.Value/100
	case *syntax.String:
		return v.Kind == check.VString && v.Str == e.Value
	case *syntax.Ident:
		return v.Kind == check.VIdent && v.Str == e.Name
	}
	return true
}

func (b *builder) expect(s *check.Step, parent *Node, st *state) error {
	n := located(KindExpect, s)
	n.Text = "expect"
	if s.Expr != nil {
		n.Text += " " + spanText(b.src, s.Expr.Span())
	}
	n.Reads = expectReads(s, st)
	if err := b.add(n, parent); err != nil {
		return err
	}
	b.chain(n, s, st)
	b.flow(n, st)
	return nil
}

// expectReads lists what a condition refers to: `accuracy` reads the
// metric as last recorded; `teacher.accuracy` reads the snapshot, whose
// metric the runner measures there if no step did (MetricRef.Lazy).
func expectReads(s *check.Step, st *state) []string {
	var out []string
	for _, r := range s.Refs {
		if r.Snapshot != "" {
			out = appendNew(out, snapshotRes(r.Snapshot))
			continue
		}
		out = appendNew(out, metricRes(r.Metric))
	}
	return out
}

func (b *builder) repeat(s *check.Step, parent *Node, st *state) error {
	g := located(KindRepeat, s)
	g.Text = fmt.Sprintf("repeat %d", s.Count)
	if err := b.add(g, parent); err != nil {
		return err
	}
	for r := 1; r <= s.Count; r++ {
		round := located(KindRound, s)
		round.Verb = ""
		round.Text = fmt.Sprintf("round %d of %d", r, s.Count)
		if err := b.add(round, g); err != nil {
			return err
		}
		if err := b.steps(s.Body, round, st); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) forLoop(s *check.Step, parent *Node, st *state) error {
	g := located(KindFor, s)
	g.Text = "for " + s.Name + " in " + b.overText(s)
	if err := b.add(g, parent); err != nil {
		return err
	}
	for i, v := range s.Over {
		br := located(KindBranch, s)
		br.Verb = ""
		br.Bind = s.Name + "=" + v.String()
		br.Text = "branch " + br.Bind
		if err := b.add(br, g); err != nil {
			return err
		}
		arm := st.fork()
		arm.vars[s.Name] = v
		if err := b.steps(branchBody(s, i), br, arm); err != nil {
			return err
		}
	}
	return nil
}

// overText is the for loop's list as written, or its values.
func (b *builder) overText(s *check.Step) string {
	if f, ok := s.Node.(*syntax.For); ok {
		return spanText(b.src, f.Over.Span())
	}
	return check.Value{Kind: check.VList, List: s.Over}.String()
}

// branchBody is the body the checker typed for the i-th loop value, with
// the loop variable bound; Body when the checker kept only one.
func branchBody(s *check.Step, i int) []*check.Step {
	if i < len(s.Branches) {
		return s.Branches[i]
	}
	return s.Body
}
