package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/qpipe/qpipe/stdlib"
)

func init() {
	register(&command{
		Name:    "help",
		Args:    "[VERB|COMMAND]",
		Summary: "list the commands and verbs, or document one verb or command",
		Flags: func(fs *flag.FlagSet) func(*IO, []string) error {
			return runHelp
		},
	})
}

func runHelp(sys *IO, args []string) error {
	switch len(args) {
	case 0:
		return overview(sys.Stdout)
	case 1:
	default:
		return usagef("help takes one VERB or COMMAND")
	}
	topic := args[0]
	if sig, ok := stdlib.Lookup(topic); ok {
		_, err := io.WriteString(sys.Stdout, verbHelp(sig))
		return err
	}
	if c, ok := commands[topic]; ok {
		return commandHelp(sys.Stdout, c)
	}
	return usagef("unknown verb or command %q%s", topic, didYouMean(topic, topics()))
}

// overview lists the commands and the verbs of the language.
func overview(w io.Writer) error {
	writeCommandList(w)
	fmt.Fprintln(w, "\nverbs of the recipe language (qpipe help VERB for one):")
	for _, sig := range stdlib.Signatures() {
		fmt.Fprintf(w, "  %-9s %s\n", sig.Verb, sig.Summary)
	}
	_, err := fmt.Fprintln(w, "\ndocumentation: docs/language.md and docs/cli.md")
	return err
}

// commandHelp prints a command's usage line and flags.
func commandHelp(w io.Writer, c *command) error {
	fmt.Fprintf(w, "%s\n\n%s\n", c.usage(), c.Summary)
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	c.Flags(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	return nil
}

func topics() []string {
	var out []string
	for _, sig := range stdlib.Signatures() {
		out = append(out, sig.Verb)
	}
	return append(out, commandNames()...)
}
