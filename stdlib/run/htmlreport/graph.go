package htmlreport

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// The plan graph is laid out as the plan nests: a sequence stacks its
// members top to bottom with an arrow between each, a for loop puts its
// branches side by side, a repeat stacks its rounds; groups are boxes
// with a header. Each step is a box coloured by its status (CSS classes
// n-done, n-failed, ...) with its node label, its statement and its time.

const (
	boxW, boxH = 210.0, 38.0
	gap        = 14.0 // between members of a sequence (the arrow)
	pad        = 8.0  // inside a group box
	header     = 16.0 // a group box's header line
	maxChars   = 32
)

// graph lays out one plan with the report's entries.
type graph struct {
	p       *planner.Plan
	entries map[int]run.StepReport // plan node id → its entry
	b       strings.Builder
}

// leaves are a plan's executed nodes (steps, lets, expects) in run order.
func leaves(p *planner.Plan) []*planner.Node {
	var out []*planner.Node
	for _, n := range p.Nodes {
		if len(n.Children) == 0 && (n.Kind == planner.KindStep || n.Kind == planner.KindLet || n.Kind == planner.KindExpect) {
			out = append(out, n)
		}
	}
	return out
}

// matches tells whether the report's entries are the plan's first
// leaves (same verb and line), so the plan can be drawn with them.
func matches(p *planner.Plan, r *run.Report) bool {
	ls := leaves(p)
	if len(r.Steps) > len(ls) {
		return false
	}
	for i, s := range r.Steps {
		if ls[i].Verb != s.Verb || ls[i].Line != s.Line {
			return false
		}
	}
	return true
}

// planGraph draws the plan (or, without one that matches the report,
// the report's steps grouped by branch) as inline SVG.
func planGraph(r *run.Report, p *planner.Plan) (template.HTML, error) {
	var entries map[int]run.StepReport
	ok := false
	if p != nil {
		entries, ok = byNode(p, r)
	}
	if !ok {
		p = drawnPlan(r, p)
		entries = byPosition(p, r)
	}
	g := &graph{p: p, entries: entries}
	top := topLevel(p)
	w, h := g.seqSize(top)
	fmt.Fprintf(&g.b, `<svg class="plan" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" xmlns="http://www.w3.org/2000/svg">`,
		w+2*pad, h+2*pad, w+2*pad, h+2*pad)
	g.b.WriteString(`<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>`)
	g.seq(top, pad, pad, w)
	g.b.WriteString("</svg>")
	return template.HTML(g.b.String()), nil
}

// byNode matches the report's entries to the plan's nodes by the node id
// each entry carries ("6.1.2", report.json's "node"); ok is false when an
// entry has none (a report older than the step store) or names a node
// the plan lacks or that is another statement.
func byNode(p *planner.Plan, r *run.Report) (map[int]run.StepReport, bool) {
	ids := map[string]*planner.Node{}
	for _, n := range p.Nodes {
		ids[n.Label] = n
	}
	out := map[int]run.StepReport{}
	for _, s := range r.Steps {
		n, ok := ids[s.Node]
		if s.Node == "" || !ok || n.Verb != s.Verb || n.Line != s.Line {
			return nil, false
		}
		out[n.ID] = s
	}
	return out, true
}

// byPosition matches the report's entries to the plan's leaves in order.
func byPosition(p *planner.Plan, r *run.Report) map[int]run.StepReport {
	out := map[int]run.StepReport{}
	for i, n := range leaves(p) {
		if i < len(r.Steps) {
			out[n.ID] = r.Steps[i]
		}
	}
	return out
}

// drawnPlan is p when it matches the report, else the plan of the
// report's steps.
func drawnPlan(r *run.Report, p *planner.Plan) *planner.Plan {
	if p == nil || !matches(p, r) {
		return planOfReport(r)
	}
	return p
}

func topLevel(p *planner.Plan) []int {
	var ids []int
	for _, n := range p.Nodes {
		if n.Parent < 0 {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// size is a node's box size.
func (g *graph) size(id int) (float64, float64) {
	n := g.p.Nodes[id]
	if len(n.Children) == 0 {
		return boxW, boxH
	}
	var w, h float64
	if n.Kind == planner.KindFor {
		for _, c := range n.Children {
			cw, ch := g.size(c)
			w, h = w+cw+gap, max(h, ch)
		}
		w -= gap
	} else {
		w, h = g.seqSize(n.Children)
	}
	return w + 2*pad, h + 2*pad + header
}

// seqSize is the size of members stacked with gaps.
func (g *graph) seqSize(ids []int) (float64, float64) {
	var w, h float64
	for i, id := range ids {
		cw, ch := g.size(id)
		w, h = max(w, cw), h+ch
		if i > 0 {
			h += gap
		}
	}
	return w, h
}

// seq draws members centred in width w from (x, y), arrows between.
func (g *graph) seq(ids []int, x, y, w float64) {
	for i, id := range ids {
		cw, ch := g.size(id)
		cx := x + (w-cw)/2
		if i > 0 {
			fmt.Fprintf(&g.b, `<line class="edge" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" marker-end="url(#arrow)"/>`, x+w/2, y-gap, x+w/2, y-1)
		}
		g.node(id, cx, y)
		y += ch + gap
	}
}

// node draws one node at (x, y).
func (g *graph) node(id int, x, y float64) {
	n := g.p.Nodes[id]
	w, h := g.size(id)
	if len(n.Children) == 0 {
		g.leaf(n, x, y)
		return
	}
	fmt.Fprintf(&g.b, `<g class="group g-%s"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6"/>`, n.Kind, x, y, w, h)
	fmt.Fprintf(&g.b, `<text x="%.1f" y="%.1f" class="ghead">%s</text></g>`, x+pad, y+header-2, esc(clip(groupTitle(n), int(w/6.5))))
	ix, iy := x+pad, y+pad+header
	if n.Kind != planner.KindFor {
		g.seq(n.Children, ix, iy, w-2*pad)
		return
	}
	for _, c := range n.Children {
		cw, _ := g.size(c)
		g.node(c, ix, iy)
		ix += cw + gap
	}
}

func groupTitle(n *planner.Node) string {
	t := n.Label + " " + n.Text
	if n.Kind == planner.KindBranch && n.Bind != "" {
		t = n.Label + " " + n.Bind
	}
	return t
}

// leaf draws a step box: label and statement, then status and time.
func (g *graph) leaf(n *planner.Node, x, y float64) {
	e, ran := g.entries[n.ID]
	status, detail := "pending", "not run yet"
	if ran {
		status, detail = e.Status, fmt.Sprintf("%s · %s", e.Status, seconds(e.Seconds))
	}
	tip := fmt.Sprintf("%s %s (line %d)", n.Label, n.Text, n.Line)
	if n.Model != nil {
		tip += "\nmodel: " + planner.ModelText(n.Model)
		if n.Model.Change != "" {
			tip += "\nchange: " + n.Model.Change
		}
	}
	if ran {
		tip += "\n" + detail
		if e.Summary != "" {
			tip += "\n" + e.Summary
		}
		if e.Error != "" {
			tip += "\n" + e.Error
		}
	}
	fmt.Fprintf(&g.b, `<g class="node n-%s" data-node="%s"><title>%s</title>`, esc(status), esc(n.Label), esc(tip))
	fmt.Fprintf(&g.b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="4"/>`, x, y, boxW, boxH)
	fmt.Fprintf(&g.b, `<text x="%.1f" y="%.1f" class="nhead">%s</text>`, x+6, y+15, esc(clip(n.Label+"  "+n.Text, maxChars)))
	fmt.Fprintf(&g.b, `<text x="%.1f" y="%.1f" class="ndetail">%s</text></g>`, x+6, y+30, esc(detail))
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}

// planOfReport builds a plan from the report's entries alone: steps in
// order, consecutive steps of for branches grouped into one loop with a
// box per branch.
func planOfReport(r *run.Report) *planner.Plan {
	p := &planner.Plan{}
	add := func(n *planner.Node) *planner.Node {
		n.ID = len(p.Nodes)
		p.Nodes = append(p.Nodes, n)
		if n.Parent >= 0 {
			par := p.Nodes[n.Parent]
			par.Children = append(par.Children, n.ID)
		}
		return n
	}
	loop, branches := -1, map[string]int{}
	top := 0
	for _, s := range r.Steps {
		parent := -1
		if s.Branch == "" {
			loop = -1
		} else {
			if loop < 0 {
				top++
				loop = add(&planner.Node{Parent: -1, Kind: planner.KindFor, Label: fmt.Sprint(top), Text: "for", Line: s.Line}).ID
				branches = map[string]int{}
			}
			b, ok := branches[s.Branch]
			if !ok {
				l := p.Nodes[loop]
				b = add(&planner.Node{Parent: loop, Kind: planner.KindBranch, Label: fmt.Sprintf("%s.%d", l.Label, len(l.Children)+1), Bind: s.Branch}).ID
				branches[s.Branch] = b
			}
			parent = b
		}
		lbl := fmt.Sprint(s.Index + 1)
		if parent < 0 {
			top++
			lbl = fmt.Sprint(top)
		} else {
			lbl = fmt.Sprintf("%s.%d", p.Nodes[parent].Label, len(p.Nodes[parent].Children)+1)
		}
		add(&planner.Node{Parent: parent, Kind: planner.KindStep, Label: lbl, Verb: s.Verb, Text: s.Verb, Line: s.Line})
	}
	return p
}
