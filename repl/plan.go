package repl

import "context"

// plan shows what has run and what every statement so far would do.
func (s *Session) plan(_ context.Context, _ string) {
	if len(s.entries) == 0 {
		s.say("nothing typed yet")
		return
	}
	for i, e := range s.entries {
		status := "checked, not run (execution is not available yet)"
		if e.ran {
			status = "ran"
		} else if s.exec != nil || !needsEngine(e.step) {
			status = "checked"
		}
		s.say("%d. %s — %s", i+1, HistoryLine(e.text), status)
		s.say("   %s", describe(e.step))
	}
}
