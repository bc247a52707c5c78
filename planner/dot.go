package planner

import (
	"fmt"
	"io"
	"strings"
)

// DOT writes the plan as a Graphviz digraph: work nodes (steps, lets,
// expects) are boxes, groups (repeat, round, for, branch) are clusters
// around their members, and each edge carries one resource. Model edges
// are plain; snapshot edges dashed, dataset edges dotted, and both are
// labelled.
func DOT(w io.Writer, p *Plan) error {
	dw := &dotWriter{p: p}
	dw.line("digraph plan {")
	dw.line("  label=%s;", quote("plan of "+p.Recipe))
	dw.line("  labelloc=t;")
	dw.line("  node [shape=box, fontname=\"Helvetica\"];")
	dw.line("  edge [fontname=\"Helvetica\", fontsize=10];")
	for _, n := range p.Nodes {
		if n.Parent < 0 {
			dw.node(n, "  ")
		}
	}
	for _, e := range p.Edges {
		dw.edge(e)
	}
	dw.line("}")
	_, err := io.WriteString(w, dw.b.String())
	return err
}

type dotWriter struct {
	p *Plan
	b strings.Builder
}

func (d *dotWriter) line(format string, args ...any) {
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d *dotWriter) node(n *Node, indent string) {
	if len(n.Children) == 0 && isGroup(n.Kind) {
		d.line("%sn%d [label=%s, shape=plaintext];", indent, n.ID, quote(n.Label+". "+n.Text))
		return
	}
	if !isGroup(n.Kind) {
		d.line("%sn%d [label=%s%s];", indent, n.ID, quote(dotLabel(n)), dotShape(n.Kind))
		return
	}
	d.line("%ssubgraph cluster_n%d {", indent, n.ID)
	d.line("%s  label=%s;", indent, quote(n.Label+". "+n.Text))
	for _, c := range n.Children {
		d.node(d.p.Nodes[c], indent+"  ")
	}
	d.line("%s}", indent)
}

func isGroup(k Kind) bool {
	return k == KindRepeat || k == KindRound || k == KindFor || k == KindBranch
}

func dotShape(k Kind) string {
	switch k {
	case KindLet:
		return ", shape=note"
	case KindExpect:
		return ", shape=diamond"
	}
	return ""
}

// dotLabel is the node's label and text, then its arguments one a line.
func dotLabel(n *Node) string {
	lines := []string{n.Label + ". " + n.Text}
	for _, a := range n.Args {
		lines = append(lines, a.String())
	}
	if c := costText(n.Cost); c != "" {
		lines = append(lines, c)
	}
	if n.Model != nil && writes(n, ResModel) && (n.Verb == "model" || n.Model.Change != "") {
		lines = append(lines, ModelText(n.Model))
		if n.Model.Change != "" {
			lines = append(lines, n.Model.Change)
		}
	}
	return strings.Join(lines, "\n")
}

func (d *dotWriter) edge(e Edge) {
	attrs := ""
	switch {
	case strings.HasPrefix(e.Resource, "snapshot:"):
		attrs = fmt.Sprintf(" [label=%s, style=dashed]", quote(resourceLabel(e.Resource)))
	case strings.HasPrefix(e.Resource, "data:"):
		attrs = fmt.Sprintf(" [label=%s, style=dotted]", quote(resourceLabel(e.Resource)))
	case e.Resource != ResModel:
		attrs = fmt.Sprintf(" [label=%s]", quote(resourceLabel(e.Resource)))
	}
	d.line("  n%d -> n%d%s;", e.From, e.To, attrs)
}

// quote makes a DOT string literal; newlines become centred line breaks.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
