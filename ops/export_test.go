package ops

// StepPlanOf exposes the model's cached step plan to the tests (its
// identity only).
func StepPlanOf(m *Model) any { return m.stepPlan() }

// FrozenOrder returns a frozen model's node IDs in the order its forward
// runs them, with each value's last reader's index in that order as its
// forward's plan has it (indexed by node ID: when it is released).
func FrozenOrder(f *Frozen) (ids, lastUse []int) {
	for _, n := range f.m.Nodes {
		ids = append(ids, n.ID)
	}
	return ids, f.plan.lastUse
}
