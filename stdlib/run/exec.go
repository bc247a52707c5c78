package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/qpipe/qpipe/planner"
)

// Executing a plan
//
// The plan's work nodes (steps, lets, expects) are executed in Index
// order, each from the state its input node left (planner.Node.Inputs):
// the previous node of its branch, so every branch of a for loop starts
// from the state at the loop's entry and the statements after the loop
// from that same state. A node whose chained key is in the step store is
// not executed: its entry is reported (status "cached") and its state is
// loaded only if a node after it must execute. Nodes that measure
// nondeterministic metrics (latency, throughput) and nodes that write
// files outside the store (export) always execute.
//
// Up to Jobs nodes run at once; nodes only wait for their input, so
// independent branches overlap while each branch stays sequential. A
// failure stops new nodes from starting; those already running finish,
// and the rest are reported as skipped.

// Executor executes a plan, storing and reusing finished nodes in store
// and telling obs about every node (started, progress, finished with
// status done, cached, failed, interrupted or skipped).
type Executor interface {
	Execute(ctx context.Context, p *planner.Plan, store *Store, obs Observer) error
}

// Local executes plans in this process.
type Local struct {
	// Env is the base environment of every node: backend, seed, folders,
	// command-line bindings.
	Env Env
	// Jobs bounds the nodes running at once; 0 means 1.
	Jobs int
	// NoCache executes every node (their results are still stored).
	NoCache bool
	// Recipe names the recipe in store entries.
	Recipe string
	// Warn receives store problems (a damaged entry); nil drops them.
	Warn func(string)
	// RunNode executes one node on its state; nil runs the node's verb
	// (or the --model/--data binding it stands for).
	RunNode func(ctx context.Context, env *Env, st *State, n *planner.Node) (*Outcome, error)
	// Select, when set, executes only the nodes it selects (one job of a
	// cluster executor, see remote.go): the state of every other node a
	// selected node starts from is loaded from the store, and unselected
	// nodes are neither executed nor reported.
	Select func(n *planner.Node) bool
}

// Execute implements Executor.
func (l *Local) Execute(ctx context.Context, p *planner.Plan, store *Store, obs Observer) error {
	_, err := l.ExecuteFrom(ctx, NewState(), p, store, obs)
	return err
}

// ExecuteFrom executes p starting from initial (which it may change) and
// returns the state after its last top-level node: the state the plan
// leaves, as the REPL continues from it.
func (l *Local) ExecuteFrom(ctx context.Context, initial *State, p *planner.Plan, store *Store, obs Observer) (*State, error) {
	x := newExecution(l, p, store, obs)
	x.initial = initial
	x.keepLast()
	if l.Select != nil {
		if err := x.selectNodes(); err != nil {
			return nil, err
		}
	}
	x.decide()
	if err := x.run(ctx); err != nil {
		return nil, err
	}
	if x.last < 0 {
		return x.initial, nil
	}
	st := x.states[x.last]
	if st == nil && x.cached[x.last] != nil {
		return x.store.Load(&x.l.Env, x.cached[x.last])
	}
	return st, nil
}

// keepLast marks the last top-level node, whose state the execution
// returns.
func (x *execution) keepLast() {
	x.last = -1
	for i, n := range x.work {
		if !x.inBranch(n) {
			x.last = i
		}
	}
}

// execution is one Execute call.
type execution struct {
	l     *Local
	p     *planner.Plan
	store *Store
	obs   *lockedObserver
	work  []*planner.Node
	// pred is the Index of each node's input, -1 for the empty state.
	pred   []int
	cached []*Entry
	// refresh are stored entries of nodes that only re-measure their
	// nondeterministic metrics (Verb.Remeasure) from the stored state.
	refresh []*Entry
	// states holds output states still wanted by nodes to execute; uses
	// counts those nodes.
	states map[int]*State
	uses   []int
	// fresh are the nondeterministic metrics measured in this run that
	// hold for the state after each node (see overlay).
	fresh []values
	// lastCheckpoint is the newest entry written.
	lastCheckpoint string
	// initial is the state before the first node; initialUses counts the
	// nodes that start from it (and the caller, when no top-level node
	// follows). last is the last top-level node, whose state is kept.
	initial     *State
	initialUses int
	last        int
	// need marks the unselected nodes whose state selected nodes start
	// from (Local.Select).
	need []bool
}

// values are nondeterministic metrics under checker and report names.
type values struct{ metrics, reported map[string]float64 }

type result struct {
	i     int
	st    *State
	entry StepReport
	err   error
	// refreshed: the node re-measured a stored result, nothing to store.
	refreshed bool
}

func newExecution(l *Local, p *planner.Plan, store *Store, obs Observer) *execution {
	work := p.Work()
	x := &execution{l: l, p: p, store: store, obs: &lockedObserver{o: obs}, work: work, initial: NewState(), last: -1,
		pred: make([]int, len(work)), cached: make([]*Entry, len(work)), refresh: make([]*Entry, len(work)), states: map[int]*State{},
		uses: make([]int, len(work)), fresh: make([]values, len(work))}
	for i, n := range work {
		x.pred[i] = -1
		if len(n.Inputs) > 0 {
			x.pred[i] = p.Nodes[n.Inputs[0]].Index
		}
	}
	return x
}

// decide looks every reusable node up in the store, then loads the
// states that nodes to execute start from; a damaged entry is reported
// and its node executed instead.
func (x *execution) decide() {
	for i, n := range x.work {
		if x.cached[i] != nil || x.l.NoCache || x.store == nil || (!reusable(n) && !remeasurable(n)) {
			continue
		}
		e, err := x.store.Get(n.Key)
		if err != nil {
			x.warn(err)
			continue
		}
		if reusable(n) {
			x.cached[i] = e
		} else {
			x.refresh[i] = e
		}
	}
	for {
		for i := range x.uses {
			x.uses[i] = 0
		}
		x.initialUses = 0
		if x.last < 0 {
			x.initialUses = 1
		} else {
			x.uses[x.last]++
		}
		for i := range x.work {
			switch {
			case x.cached[i] != nil, x.refresh[i] != nil, !x.selected(i):
			case x.pred[i] >= 0:
				x.uses[x.pred[i]]++
			default:
				x.initialUses++
			}
		}
		if x.loadCached() {
			return
		}
	}
}

// loadCached loads the cached states that executing nodes need; false
// when one was damaged (and is now to be executed).
func (x *execution) loadCached() bool {
	for i, e := range x.cached {
		if e == nil || x.uses[i] == 0 || x.states[i] != nil {
			continue
		}
		st, err := x.store.Load(&x.l.Env, e)
		if err != nil {
			x.warn(&CorruptError{Key: e.Key, Path: x.store.Path(e.Key), Err: err})
			x.store.corrupt(e.Key, err)
			x.cached[i] = nil
			return false
		}
		x.states[i] = st
	}
	return true
}

func (x *execution) warn(err error) {
	if x.l.Warn != nil {
		x.l.Warn(err.Error())
	}
}

// run schedules the nodes and waits for them.
func (x *execution) run(ctx context.Context) error {
	jobs := max(x.l.Jobs, 1)
	n := len(x.work)
	started, done := make([]bool, n), make([]bool, n)
	results := make(chan result)
	running := 0
	var failure error
	for {
		for progressed := true; progressed; {
			progressed = false
			for i := 0; i < n; i++ {
				if started[i] || (x.pred[i] >= 0 && !done[x.pred[i]]) {
					continue
				}
				if x.cached[i] != nil {
					started[i], done[i], progressed = true, true, true
					if x.selected(i) {
						x.reuse(i)
					}
					continue
				}
				if !x.selected(i) {
					started[i], done[i], progressed = true, true, true
					if x.need[i] && failure == nil {
						failure = &MissingError{Node: x.work[i]}
					}
					continue
				}
				if failure != nil || running >= jobs {
					continue
				}
				if ctx.Err() != nil {
					started[i], done[i] = true, true
					failure = x.failed(x.work[i], x.entry(x.work[i]), ErrInterrupted)
					continue
				}
				started[i], running = true, running+1
				if x.refresh[i] != nil {
					go func(i int) { results <- x.remeasure(ctx, i) }(i)
					continue
				}
				st := x.take(x.pred[i])
				go func(i int, st *State) { results <- x.execute(ctx, i, st) }(i, st)
			}
		}
		if running == 0 {
			break
		}
		r := <-results
		running--
		done[r.i] = true
		if err := x.finish(r); err != nil && failure == nil {
			failure = err
		}
	}
	x.skipRest(started)
	return failure
}

// take hands out the output state of node j to a node about to execute:
// the state itself to its last user, a copy to the others.
func (x *execution) take(j int) *State {
	if j < 0 {
		x.initialUses--
		if x.initialUses == 0 {
			return x.initial
		}
		return x.initial.Clone()
	}
	st := x.states[j]
	x.uses[j]--
	if x.uses[j] == 0 {
		delete(x.states, j)
		return st
	}
	return st.Clone()
}

// reuse reports a cached node.
func (x *execution) reuse(i int) {
	n, e := x.work[i], x.cached[i]
	if x.pred[i] >= 0 {
		x.fresh[i] = x.fresh[x.pred[i]].within(e.State)
	}
	if st := x.states[i]; st != nil {
		x.fresh[i].apply(st)
	}
	entry := x.entry(n)
	entry.Status, entry.Summary, entry.Checkpoint, entry.Series = StatusCached, e.Summary, x.store.Path(e.Key), e.Series
	maps.Copy(entry.Metrics, e.Metrics)
	if !x.inBranch(n) {
		rep := maps.Clone(orEmpty(e.State.Reported))
		maps.Copy(rep, x.fresh[i].reported)
		f := finalOf(rep)
		entry.final = &f
	}
	x.obs.Finished(entry)
}

// execute runs node i on st, in its own goroutine.
func (x *execution) execute(ctx context.Context, i int, st *State) result {
	n := x.work[i]
	e, start := x.entry(n), time.Now()
	x.obs.Started(e)
	env := x.l.Env
	env.Index, env.Scope = env.IndexBase+n.Index, n.Scope
	env.Tick = func(t Tick) { x.obs.Progress(e, t) }
	run := x.l.RunNode
	if run == nil {
		run = x.runNode
	}
	out, err := run(ctx, &env, st, n)
	e.Seconds = time.Since(start).Seconds()
	if err != nil {
		return result{i: i, entry: e, err: err}
	}
	e.Status, e.Summary, e.Series = StatusDone, out.Summary, out.Series
	maps.Copy(e.Metrics, out.Metrics)
	return result{i: i, st: st, entry: e}
}

// remeasure loads node i's stored state and re-measures its
// nondeterministic metrics, in its own goroutine; the rest of its entry
// comes from the store (status cached).
func (x *execution) remeasure(ctx context.Context, i int) result {
	n, stored := x.work[i], x.refresh[i]
	e, start := x.entry(n), time.Now()
	x.obs.Started(e)
	st, err := x.store.Load(&x.l.Env, stored)
	var out *Outcome
	if err == nil {
		env := x.l.Env
		env.Index, env.Scope = env.IndexBase+n.Index, n.Scope
		env.Tick = func(t Tick) { x.obs.Progress(e, t) }
		v, _ := lookup(n.Verb)
		out, err = v.Remeasure(ctx, &env, st, n.Step)
	}
	e.Seconds = time.Since(start).Seconds()
	if err != nil {
		return result{i: i, entry: e, err: err}
	}
	e.Status, e.Summary, e.Series = StatusCached, out.Summary+" (latency re-measured; the rest from the step store)", stored.Series
	maps.Copy(e.Metrics, stored.Metrics)
	maps.Copy(e.Metrics, out.Metrics)
	return result{i: i, st: st, entry: e, refreshed: true}
}

// runNode runs a node's verb, or the binding it stands for.
func (x *execution) runNode(ctx context.Context, env *Env, st *State, n *planner.Node) (*Outcome, error) {
	if n.Step == nil {
		return bindFlag(env, st, x.p, n)
	}
	return execStep(ctx, env, st, n.Step)
}

// finish records an executed node: its state into the store and to the
// nodes waiting for it, its entry to the observer.
func (x *execution) finish(r result) error {
	n, e := x.work[r.i], r.entry
	if r.err != nil {
		return x.failed(n, e, r.err)
	}
	x.fresh[r.i] = nondeterministic(r.st)
	if r.refreshed {
		e.Checkpoint = x.store.Path(n.Key)
	} else if x.store != nil {
		se := &Entry{Key: n.Key, Node: n.Label, Verb: n.Verb, Recipe: x.l.Recipe, Seconds: e.Seconds, Summary: e.Summary, Metrics: e.Metrics, Series: e.Series}
		if err := x.store.Put(se, r.st); err != nil {
			x.warn(fmt.Errorf("step %s was not stored: %w", n.Label, err))
		} else {
			e.Checkpoint = x.store.Path(n.Key)
			x.lastCheckpoint = e.Checkpoint
		}
	}
	if !x.inBranch(n) {
		f := finalOf(r.st.Reported)
		e.final = &f
	}
	if x.uses[r.i] > 0 {
		x.states[r.i] = r.st
	}
	x.obs.Finished(e)
	return nil
}

// failed reports a node that failed and returns the run's error.
func (x *execution) failed(n *planner.Node, e StepReport, err error) error {
	e.Status = StatusFailed
	var withS SeriesError
	if errors.As(err, &withS) {
		e.Series = withS.StepSeries()
	}
	if errors.Is(err, ErrInterrupted) {
		e.Status, e.Error = StatusInterrupted, "interrupted"
		x.obs.Finished(e)
		if n.Step == nil {
			return ErrInterrupted
		}
		return &StepError{Step: n.Step, Err: err}
	}
	if n.Step == nil {
		e.Error = err.Error()
		x.obs.Finished(e)
		return err
	}
	se := &StepError{Step: n.Step, Err: err}
	if x.lastCheckpoint != "" && errors.Is(err, ErrNonFinite) {
		se.Err = fmt.Errorf("%w; the last good checkpoint is %s", err, x.lastCheckpoint)
	}
	e.Error = se.Error()
	x.obs.Finished(e)
	return se
}

// skipRest reports the nodes that never started.
func (x *execution) skipRest(started []bool) {
	for i, n := range x.work {
		if started[i] || !x.selected(i) {
			continue
		}
		e := x.entry(n)
		e.Status = StatusSkipped
		x.obs.Finished(e)
	}
}
