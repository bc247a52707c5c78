// Command qpipe is the command line of the qpipe language: it checks,
// formats, plans and runs .qpipe compression recipes.
//
// Each subcommand lives in its own file (cmd_NAME.go) and registers itself
// in the command table from an init function, so adding one touches no
// other file. main.go only dispatches; command.go holds the shared plumbing
// (flag parsing, exit codes, the one-line failure reason on stderr).
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], &IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
