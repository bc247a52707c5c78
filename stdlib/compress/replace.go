package compress

import (
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
)

// InScope reports whether a node named name lies inside scope, a glob over
// dotted module names (see ops.CompileGlob): the name itself or one of its
// dotted prefixes (an enclosing module) must match. So "stages.0.*" covers
// "stages.0.blocks.1.mlp.act", and "*" or "" covers every node.
func InScope(scope, name string) (bool, error) {
	if scope == "" || scope == "**" {
		return true, nil
	}
	re, err := ops.CompileGlob(scope)
	if err != nil {
		return false, fmt.Errorf("compress: bad scope %q: %w", scope, err)
	}
	for prefix := name; ; {
		if re.MatchString(prefix) {
			return true, nil
		}
		i := strings.LastIndexByte(prefix, '.')
		if i < 0 {
			return false, nil
		}
		prefix = prefix[:i]
	}
}

// ScopeNodes returns the nodes of m inside scope (see InScope), in graph
// order. A scope that covers no node is an error naming the pattern.
func ScopeNodes(m *ops.Model, scope string) ([]*ops.Node, error) {
	var out []*ops.Node
	for _, n := range m.Nodes {
		ok, err := InScope(scope, n.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("compress: scope %q matches no layer of model %s", scope, m.Name)
	}
	return out, nil
}

// Replace rewrites every activation of kind from inside scope into kind to
// and returns how many it rewrote (0 when the scope holds none: an earlier
// replace may have done it). Both kinds must be activations; a scope that
// matches no layer is an error naming the pattern. span is the recipe
// statement, recorded on the rewritten nodes.
func Replace(m *ops.Model, from, to ops.OpKind, scope string, span source.Span) (int, error) {
	for _, k := range []ops.OpKind{from, to} {
		if !ops.IsActivation(k) {
			return 0, fmt.Errorf("compress: %q is not an activation (want one of %v)", k, ops.ActivationKinds)
		}
	}
	nodes, err := ScopeNodes(m, scope)
	if err != nil {
		return 0, err
	}
	count := 0
	for _, n := range nodes {
		if n.Kind == from && from != to {
			m.ReplaceKind(n, to, span)
			count++
		}
	}
	return count, nil
}

// Stages returns the model's stage prefixes ("stages.0", "stages.1", ...)
// in graph order: the first two segments of every node named
// "stages.N...." (Swin, ResNet-style zoo models).
func Stages(m *ops.Model) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range m.Nodes {
		parts := strings.SplitN(n.Name, ".", 3)
		if len(parts) < 3 || parts[0] != "stages" {
			continue
		}
		p := parts[0] + "." + parts[1]
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
