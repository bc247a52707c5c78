// Package repl owns `qpipe repl`: recipe statements typed one at a time
// against a live pipeline state.
//
// The core is Session (session.go), which knows nothing about terminals:
// it takes complete inputs (one or more statements, or a meta-command such
// as :undo), parses them with lang/syntax, checks them with a
// check.Checker holding the live state, and prints what they did. An
// input is all or nothing: when any statement of it has an error the
// diagnostics are printed with carets and the state stays as it was.
// Every accepted statement pushes an undo frame (a clone of the checker,
// and of the Executor when there is one), so :undo steps back exactly one
// statement.
//
// Execution plugs in through the Executor interface: `qpipe repl` gives
// the session one backed by a live stdlib/run Session, so each accepted
// statement runs on the model (train, evaluate, quantize...) and :undo
// restores the executor's clone too. With --check-only, or a nil
// Executor, statements are checked but not run; the checked state
// (snapshots, metrics, parameters) is kept either way.
//
// The terminal side (terminal.go) is thin: line editing, history and tab
// completion come from github.com/chzyer/readline; the loop joins lines
// until brackets and braces balance and hands the input to the Session.
package repl
