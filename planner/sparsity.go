package planner

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
)

// sparsityNote follows the weight density through unstructured prune
// steps, which each remove `ratio` of the weights still unpruned, so a
// repeat of them compounds: it returns the note a prune step shows, and
// "" for other steps. Loading a model resets the density.
func sparsityNote(s *check.Step, st *state) string {
	if s.Sig != nil && s.Sig.Effects.LoadsModel {
		st.density = 1
		return ""
	}
	if s.Verb != "prune" {
		return ""
	}
	r, ok := number(s.Args["ratio"], st)
	if !ok {
		return ""
	}
	if s.Args["structured"].Bool {
		note := fmt.Sprintf("removes %.4g%% of the output channels of every layer it can shrink", 100*r)
		if plainName(st.vars.resolve(s.Args["scope"])) == "global" {
			note = fmt.Sprintf("removes %.4g%% of all output channels, ranked across layers (the sizes below rank the initial weights; the run ranks the trained ones)", 100*r)
		}
		return note
	}
	st.density *= 1 - r
	return fmt.Sprintf("sparsity after this step: %.4g%% of the prunable weights", 100*(1-st.density))
}

// number is a numeric argument, resolved through the loop variables.
func number(v check.Value, st *state) (float64, bool) {
	if v.Kind != check.VInt && v.Kind != check.VFloat && v.Expr != nil {
		b, ok := st.vars.bound(v.Expr)
		if !ok {
			return 0, false
		}
		v = b
	}
	if v.Kind != check.VInt && v.Kind != check.VFloat {
		return 0, false
	}
	return v.Number(), true
}
