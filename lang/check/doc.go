// Package check owns the meaning-independent checks of a recipe: names,
// types, ranges, units, defaults and order rules, all before any model is
// loaded, reporting every problem of a file in one run.
//
// It learns the vocabulary through Env (implemented by stdlib, never
// imported here) and lowers the syntax tree into typed Steps that the
// planner consumes:
//
//	rec, ds := check.Check(file, env, check.Options{})
//	rec, ds := check.CheckSource(name, text, env, opts) // parse + check
//
// The REPL and the language server check one statement at a time against
// a live State with a Checker:
//
//	c := check.NewChecker(env, opts)
//	step, ds := c.Stmt(stmt) // state advances only when ds has no errors
//	saved := c.Clone()       // for :undo
//
// # How a command is checked
//
// The verb's Signature is looked up (unknown: an error with near names).
// The first word picks a Variant, or DefaultVariant applies. Words bind to
// slots in order, `name=value` arguments by name; each value is evaluated
// (parameters replaced by their values, constant arithmetic folded,
// ranges expanded) and typed against its Param: kind, range (fractions
// default to [0, 1]), unit family, allowed names, callable forms.
// Defaults fill the arguments not written; Step.Explicit records the
// written ones. Then Effects.NeedsModel / NeedsData are enforced, the
// Signature's Rules hook runs (only when the statement typed cleanly, so
// rules may trust the values), and the generic effects apply (model or
// data bound, a new model Version on ChangesModel, the Metrics recorded).
//
// # Semantics the checker fixes
//
//   - Check advances the state past a statement with errors so one mistake
//     does not cascade, and reports "needs a model" / "needs data" once per
//     file; Checker.Stmt rejects such a statement and keeps the state.
//   - `repeat N { }` runs its body in sequence; the body is checked twice
//     when N >= 2, so rules between iterations (replace after the previous
//     iteration's quantize) are caught. Lets in a block are local to it.
//   - `for x in [...] { }` forks: each value gets its own branch, checked
//     from the state before the loop with x bound (Step.Branches); after
//     the loop the state is the one before it.
//   - `expect` names metrics of the current model (recorded by an earlier
//     step; a warning when the model changed since) or SNAPSHOT.METRIC.
//     The latter is fine when the metric was evaluated on that snapshot's
//     model state, or on the current model: the reference is then Lazy and
//     the runner measures the snapshot with the same evaluate step.
//   - Values: percents are fractions (Unit "%"), quantities are stored in
//     seconds or bytes with the unit as written, ints widen to floats for
//     TFloat/TFraction, a single value stands for a one-element list.
//   - Options.Sets replace let values; each is parsed with the recipe's
//     expression syntax and must be of the let's kind. An unknown key is an
//     error without a location (Finish reports it).
package check
