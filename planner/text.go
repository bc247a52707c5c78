package planner

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Text writes the plan as a numbered tree: one line per node, indented
// under its group, with its arguments, what it reads (and from which
// node), what it writes, and its cost; then the totals.
func Text(w io.Writer, p *Plan) error {
	tw := &textWriter{p: p}
	tw.header()
	for _, n := range p.Nodes {
		if n.Parent < 0 {
			tw.node(n, "")
		}
	}
	tw.total()
	_, err := io.WriteString(w, tw.b.String())
	return err
}

type textWriter struct {
	p *Plan
	b strings.Builder
	// into lists the edges into each node, built once: scanning every
	// edge for every node made a 100,000-line plan quadratic.
	into map[int][]Edge
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(&t.b, format, args...)
	t.b.WriteByte('\n')
}

func (t *textWriter) header() {
	t.line("plan of %s", t.p.Recipe)
	t.line("  model: %s", bindingText(t.p.Model)+modelInfoText(t.p.Model))
	t.line("  data:  %s", bindingText(t.p.Data)+dataInfoText(t.p.Data))
	t.line("")
}

func bindingText(b Binding) string {
	if b.Name == "" {
		return "(none)"
	}
	return b.Name + " (" + b.From + ")"
}

// modelInfoText is what the planner resolved about the model.
func modelInfoText(b Binding) string {
	switch {
	case b.Params != nil && b.FLOPsPerImage != nil:
		return fmt.Sprintf(": %s params, %s per image", count(*b.Params), humanFLOPs(*b.FLOPsPerImage))
	case b.Unknown != "":
		return ": FLOPs and params unknown (" + b.Unknown + ")"
	}
	return ""
}

// dataInfoText is what the planner resolved about the dataset.
func dataInfoText(b Binding) string {
	switch {
	case b.TrainImages != nil && b.TestImages != nil:
		return fmt.Sprintf(": %s training images, %s test", count(*b.TrainImages), count(*b.TestImages))
	case b.Unknown != "":
		return ": size unknown (" + b.Unknown + ")"
	}
	return ""
}

// node prints n and its children, indent growing with depth.
func (t *textWriter) node(n *Node, indent string) {
	head := indent + n.Label + ". " + n.Text
	if n.Line > 0 && n.Kind != KindRound && n.Kind != KindBranch {
		head += "  (line " + strconv.Itoa(n.Line) + ")"
	}
	t.line("%s", head)
	detail := indent + strings.Repeat(" ", len(n.Label)+2) + "  "
	t.details(n, detail)
	for _, c := range n.Children {
		t.node(t.p.Nodes[c], indent+strings.Repeat(" ", len(n.Label)+2))
	}
}

func (t *textWriter) details(n *Node, indent string) {
	if n.Note != "" {
		t.line("%snote:   %s", indent, n.Note)
	}
	if len(n.Args) > 0 {
		t.wrapped(indent+"args:   ", indent+"        ", argStrings(n.Args))
	}
	if len(n.Reads) > 0 {
		t.wrapped(indent+"reads:  ", indent+"        ", t.reads(n))
	}
	if len(n.Writes) > 0 {
		t.wrapped(indent+"writes: ", indent+"        ", labels(n.Writes))
	}
	if c := costText(n.Cost); c != "" {
		t.line("%scost:   %s", indent, c)
	}
	if n.Model != nil && writes(n, ResModel) && (n.Verb == "model" || n.Model.Change != "") {
		t.line("%smodel:  %s", indent, ModelText(n.Model))
		if n.Model.Change != "" {
			t.line("%schange: %s", indent, n.Model.Change)
		}
	}
}

// textWidth is where the text view wraps a long argument list.
const textWidth = 100

// wrapped prints items joined by ", ", starting with first and breaking
// lines before textWidth onto lines that start with cont.
func (t *textWriter) wrapped(first, cont string, items []string) {
	line := first
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		if line != first && len(line)+1+len(it) > textWidth {
			t.line("%s", line)
			line = cont
		}
		if line != first && line != cont {
			line += " "
		}
		line += it
	}
	t.line("%s", line)
}

func argStrings(args []Arg) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a.String()
	}
	return out
}

func labels(rs []string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = resourceLabel(r)
	}
	return out
}

// reads names each resource with the label of the node it comes from.
func (t *textWriter) reads(n *Node) []string {
	if t.into == nil {
		t.into = map[int][]Edge{}
		for _, e := range t.p.Edges {
			t.into[e.To] = append(t.into[e.To], e)
		}
	}
	from := map[string]int{}
	for _, e := range t.into[n.ID] {
		from[e.Resource] = e.From
	}
	parts := make([]string, len(n.Reads))
	for i, r := range n.Reads {
		parts[i] = resourceLabel(r)
		if w, ok := from[r]; ok {
			parts[i] += " from " + t.p.Nodes[w].Label
		}
	}
	return parts
}

func (t *textWriter) total() {
	t.line("")
	c := costText(t.p.Total)
	if c == "" {
		c = "no training or evaluation passes"
	}
	t.line("total: %s", c)
	if t.p.Total.FLOPs == nil {
		t.line("  flops, memory and output size need the model and the dataset resolved (see model: and data: above)")
	}
}

// costText lists the parts of a cost that are known and non-zero.
func costText(c Cost) string {
	var parts []string
	if c.TrainEpochs > 0 {
		parts = append(parts, plural(c.TrainEpochs, "training epoch"))
	}
	if c.ForwardPasses > 0 {
		parts = append(parts, plural(c.ForwardPasses, "forward pass"))
	}
	if c.Images != nil && *c.Images > 0 {
		parts = append(parts, fmt.Sprintf("%d images", *c.Images))
	}
	if c.FLOPs != nil && *c.FLOPs > 0 {
		parts = append(parts, humanFLOPs(*c.FLOPs))
	}
	if c.ParamMemoryBytes != nil {
		parts = append(parts, "parameter memory "+humanBytes(*c.ParamMemoryBytes))
	}
	if c.OutputBytes != nil {
		parts = append(parts, "output "+humanBytes(*c.OutputBytes))
	}
	return strings.Join(parts, ", ")
}

func plural(x float64, what string) string {
	s := strconv.FormatFloat(x, 'g', -1, 64) + " " + what
	if x != 1 {
		if strings.HasSuffix(what, "s") {
			return s + "es"
		}
		return s + "s"
	}
	return s
}

// humanBytes renders a byte count with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanFLOPs renders a FLOP count with a decimal prefix.
func humanFLOPs(f float64) string {
	prefixes := []string{"", "k", "M", "G", "T", "P", "E"}
	i := 0
	for f >= 1000 && i < len(prefixes)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g %sFLOP", f, prefixes[i])
}
