package run

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// planned is one step as the run executes it: repeat bodies are unrolled
// and for loops forked, so a statement inside `repeat 3` appears three
// times. Index is its place in report.json; Hash identifies its text and
// resolved arguments, so --resume can tell an unchanged recipe.
type planned struct {
	Index  int
	Step   *check.Step
	Branch string // "bits=2" inside a for branch (outer branches first)
	Round  int    // 1-based repeat round, 0 outside repeat
	Hash   string
}

// flatten lists the executed steps of a recipe in run order.
func flatten(steps []*check.Step, src *source.File) []planned {
	var out []planned
	var walk func(steps []*check.Step, branch string, round int)
	walk = func(steps []*check.Step, branch string, round int) {
		for _, s := range steps {
			switch s.Kind {
			case check.KRepeat:
				for r := 1; r <= s.Count; r++ {
					walk(s.Body, branch, r)
				}
			case check.KFor:
				for i, br := range s.Branches {
					walk(br, joinBranch(branch, s.Name+"="+FormatValue(s.Over[i])), round)
				}
			default:
				p := planned{Index: len(out), Step: s, Branch: branch, Round: round}
				p.Hash = stepHash(p, src)
				out = append(out, p)
			}
		}
	}
	walk(steps, "", 0)
	return out
}

func joinBranch(outer, inner string) string {
	if outer == "" {
		return inner
	}
	return outer + "," + inner
}

// stepHash digests what makes a step's result: its place, its text, its
// resolved words and arguments (after --set) and its branch and round.
func stepHash(p planned, src *source.File) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%d\x00%s\x00", p.Index, p.Step.Verb, p.Branch, p.Round, stmtText(p.Step, src))
	fmt.Fprintf(h, "%s\x00%s\x00%s", formatMap(p.Step.Words), formatMap(p.Step.Args), FormatValue(p.Step.Value))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// stmtText is the statement as written.
func stmtText(s *check.Step, src *source.File) string {
	if src == nil || !s.Span.IsValid() || s.Span.End.Offset > len(src.Text) {
		return ""
	}
	return string(src.Text[s.Span.Start.Offset:s.Span.End.Offset])
}

func formatMap(m map[string]check.Value) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, FormatValue(m[k]))
	}
	return b.String()
}

// FormatValue renders a checked value the way a recipe would write it.
func FormatValue(v check.Value) string {
	switch v.Kind {
	case check.VInt:
		return fmt.Sprint(v.Int)
	case check.VFloat:
		if v.Unit == "%" {
			return fmt.Sprintf("%g%%", v.Float*100)
		}
		return fmt.Sprintf("%g", v.Float) + v.Unit
	case check.VString:
		return fmt.Sprintf("%q", v.Str)
	case check.VIdent:
		return v.Str
	case check.VBool:
		return fmt.Sprint(v.Bool)
	case check.VList, check.VCall:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = FormatValue(e)
		}
		if v.Kind == check.VCall {
			return v.Str + "(" + strings.Join(parts, ", ") + ")"
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case check.VExpr:
		return syntaxText(v.Expr)
	}
	return ""
}

func syntaxText(e syntax.Expr) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%T@%s", e, e.Span())
}
