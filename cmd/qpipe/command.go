package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// Exit codes shared by every subcommand (docs/contracts.md).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// IO is what a subcommand may touch of the outside world.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// command is one subcommand.
type command struct {
	Name string
	// Args is the usage after the name: "[--format text|json] FILE...".
	Args    string
	Summary string
	// Flags declares the subcommand's flags on fs and returns its runner,
	// which receives the positional arguments after flag parsing.
	Flags func(fs *flag.FlagSet) func(sys *IO, args []string) error
}

// commands is the command table; each cmd_*.go file adds its entry from
// init, before main runs, and nothing changes it afterwards.
var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("qpipe: command " + c.Name + " registered twice")
	}
	commands[c.Name] = c
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *command) usage() string { return "usage: qpipe " + c.Name + " " + c.Args }

// Main runs the qpipe command line with args (without the program name)
// and returns the exit code.
func Main(args []string, sys *IO) int {
	if len(args) == 0 {
		fmt.Fprintln(sys.Stderr, "qpipe: missing command")
		writeCommandList(sys.Stderr)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		name = "help"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(sys.Stderr, "qpipe: unknown command %q%s\n", name, didYouMean(name, commandNames()))
		fmt.Fprintln(sys.Stderr, "run 'qpipe help' for the list of commands")
		return exitUsage
	}
	return c.run(sys, args[1:])
}

// run parses c's flags (which may come before, between or after the
// positional arguments) and runs it, turning its error into an exit code.
func (c *command) run(sys *IO, args []string) int {
	fs := flag.NewFlagSet("qpipe "+c.Name, flag.ContinueOnError)
	fs.SetOutput(sys.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), c.usage())
		fs.PrintDefaults()
	}
	runner := c.Flags(fs)
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package printed the reason and usage
	}
	return c.exit(sys, runner(sys, rest))
}

// exit prints err's one-line reason and picks the exit code.
func (c *command) exit(sys *IO, err error) int {
	var u *usageError
	var f *failure
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		fmt.Fprintf(sys.Stderr, "qpipe %s: %s\n%s\n", c.Name, u.msg, c.usage())
		return exitUsage
	case errors.As(err, &f) && f.silent:
		return f.code
	case errors.As(err, &f):
		fmt.Fprintf(sys.Stderr, "qpipe %s: %s\n", c.Name, f.msg)
		return f.code
	}
	fmt.Fprintf(sys.Stderr, "qpipe %s: %v\n", c.Name, err)
	return exitFailure
}

// parseInterspersed parses flags anywhere among the arguments; "--" ends
// the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// usageError is a mistake in how a command was called: exit 2, with the
// usage line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// failure is an error with a chosen exit code; silent when the command
// already explained itself (diagnostics printed).
type failure struct {
	code   int
	msg    string
	silent bool
}

func (e *failure) Error() string { return e.msg }

func failf(code int, format string, args ...any) error {
	return &failure{code: code, msg: fmt.Sprintf(format, args...)}
}

// oneOf checks a flag's value against its allowed values.
func oneOf(flagName, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return usagef("--%s must be one of %s, not %q", flagName, strings.Join(allowed, ", "), value)
}

// didYouMean formats near-name suggestions: `; did you mean "check"?`.
func didYouMean(name string, candidates []string) string {
	near := check.Suggest(name, candidates)
	if len(near) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", near[0])
}

func writeCommandList(w io.Writer) {
	fmt.Fprintln(w, "usage: qpipe COMMAND [ARGS]\n\ncommands:")
	for _, n := range commandNames() {
		c := commands[n]
		fmt.Fprintf(w, "  %-8s %s\n", n, c.Summary)
	}
}
