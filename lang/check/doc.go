// Package check owns the meaning-independent checks of a recipe: names,
// types, ranges, units, defaults and order rules, all before any model is
// loaded, reporting every problem of a file in one run.
//
// It learns the vocabulary through Env (implemented by stdlib, never
// imported here) and lowers the syntax tree into typed Steps that the
// planner consumes:
//
//	rec, ds := check.Check(file, env, check.Options{})
//
// The REPL and the language server check one statement at a time against
// a live State with a Checker:
//
//	c := check.NewChecker(env, opts)
//	step, ds := c.Stmt(stmt) // state advances only when ds has no errors
//	saved := c.Clone()       // for :undo
package check
