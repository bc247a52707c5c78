package run

import (
	"strconv"
	"strings"
	"sync"

	"github.com/qpipe/qpipe/planner"
)

// entry is a node's report entry before it runs.
func (x *execution) entry(n *planner.Node) StepReport {
	e := StepReport{Index: n.Index, Verb: n.Verb, Line: n.Line, Column: n.Column, Node: n.Label, Key: n.Key,
		Metrics: map[string]float64{}, Model: n.Model}
	e.Branch, e.Round = x.where(n)
	return e
}

// where is the for-loop bindings (outer first) and the innermost repeat
// round of a node.
func (x *execution) where(n *planner.Node) (string, int) {
	var binds []string
	round := 0
	for p := n.Parent; p >= 0; p = x.p.Nodes[p].Parent {
		g := x.p.Nodes[p]
		switch g.Kind {
		case planner.KindBranch:
			binds = append([]string{g.Bind}, binds...)
		case planner.KindRound:
			if round == 0 {
				round = roundNumber(g.Label)
			}
		}
	}
	return strings.Join(binds, ","), round
}

// roundNumber is the last part of a round's label ("4.2" is round 2).
func roundNumber(label string) int {
	k, _ := strconv.Atoi(label[strings.LastIndexByte(label, '.')+1:])
	return k
}

func (x *execution) inBranch(n *planner.Node) bool {
	for p := n.Parent; p >= 0; p = x.p.Nodes[p].Parent {
		if x.p.Nodes[p].Kind == planner.KindBranch {
			return true
		}
	}
	return false
}

// lockedObserver serializes the observer's calls from parallel nodes.
type lockedObserver struct {
	mu sync.Mutex
	o  Observer
}

func (l *lockedObserver) Started(s StepReport) {
	if l.o != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.o.Started(s)
	}
}

func (l *lockedObserver) Progress(s StepReport, t Tick) {
	if l.o != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.o.Progress(s, t)
	}
}

func (l *lockedObserver) Finished(s StepReport) {
	if l.o != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.o.Finished(s)
	}
}
