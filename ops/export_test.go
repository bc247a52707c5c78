package ops

// StepPlanOf exposes the model's cached step plan to the tests (its
// identity only).
func StepPlanOf(m *Model) any { return m.stepPlan() }
