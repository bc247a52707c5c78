// Package assist owns the editing help that the REPL and the language
// server share: completion candidates for the statement under the cursor
// and the documentation text of verbs and arguments.
//
// It reads only the vocabulary (check.Env and its Signatures) and the live
// pipeline state (check.State); it never parses recipes itself. Completion
// works on unfinished text that the parser would reject, so it only splits
// the current statement into blank-separated fields (quotes and brackets
// kept whole) to learn which verb, words and arguments come before the
// cursor.
package assist
