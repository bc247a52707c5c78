package syntax

// Walk calls fn for n and every node below it, depth first, in source
// order. When fn returns false, Walk skips that node's children.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, c := range children(n) {
		Walk(c, fn)
	}
}

func children(n Node) []Node {
	switch n := n.(type) {
	case *File:
		return stmtNodes(n.Stmts)
	case *Block:
		return stmtNodes(n.Stmts)
	case *Command:
		return wordsAndArgs(n.Verb, n.Words, n.Args)
	case *Call:
		return wordsAndArgs(n.Name, n.Words, n.Args)
	case *Arg:
		return []Node{n.Name, n.Value}
	case *Let:
		return []Node{n.Name, n.Value}
	case *Expect:
		return []Node{n.Cond}
	case *Repeat:
		return []Node{n.Count, n.Body}
	case *For:
		return []Node{n.Var, n.Over, n.Body}
	}
	return exprChildren(n)
}

func exprChildren(n Node) []Node {
	switch n := n.(type) {
	case *Ref:
		out := make([]Node, len(n.Parts))
		for i, p := range n.Parts {
			out[i] = p
		}
		return out
	case *List:
		out := make([]Node, len(n.Elems))
		for i, e := range n.Elems {
			out[i] = e
		}
		return out
	case *Range:
		return []Node{n.From, n.To}
	case *Unary:
		return []Node{n.X}
	case *Binary:
		return []Node{n.X, n.Y}
	case *Paren:
		return []Node{n.X}
	}
	return nil
}

func stmtNodes(stmts []Stmt) []Node {
	out := make([]Node, len(stmts))
	for i, s := range stmts {
		out[i] = s
	}
	return out
}

// wordsAndArgs lists a head, its words and its args in source order.
func wordsAndArgs(head *Ident, words []Expr, args []*Arg) []Node {
	out := []Node{head}
	wi, ai := 0, 0
	for wi < len(words) || ai < len(args) {
		if ai >= len(args) || (wi < len(words) && words[wi].Span().Start.Offset < args[ai].Sp.Start.Offset) {
			out = append(out, words[wi])
			wi++
			continue
		}
		out = append(out, args[ai])
		ai++
	}
	return out
}
