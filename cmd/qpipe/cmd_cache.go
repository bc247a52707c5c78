package main

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/qpipe/qpipe/stdlib/run"
)

func init() {
	register(&command{
		Name:    "cache",
		Args:    "ls | gc [--max-size SIZE]",
		Summary: "list the step store ($QPIPE_CACHE) or shrink it to a size (least recently used steps go first)",
		Flags:   func(*flag.FlagSet) func(*IO, []string) error { return runCache },
	})
}

func runCache(sys *IO, args []string) error {
	if len(args) == 0 {
		return usagef("cache needs ls or gc")
	}
	store, err := openStore()
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	switch args[0] {
	case "ls":
		if len(args) > 1 {
			return usagef("cache ls takes no arguments")
		}
		return cacheList(sys, store)
	case "gc":
		return cacheGC(sys, store, args[1:])
	}
	return usagef("unknown cache command %q: ls or gc", args[0])
}

func openStore() (*run.Store, error) {
	dir, err := run.DefaultStoreDir()
	if err != nil {
		return nil, err
	}
	return run.OpenStore(dir)
}

// cacheList prints one line per entry, newest first, and the total.
func cacheList(sys *IO, s *run.Store) error {
	infos, err := s.List()
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	tw := tabwriter.NewWriter(sys.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNODE\tVERB\tSIZE\tUSED\tRECIPE")
	for _, in := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Key[:12], in.Node, in.Verb, humanize.IBytes(uint64(in.Bytes)),
			humanize.RelTime(in.ModTime, time.Now(), "ago", "from now"), in.Recipe)
	}
	tw.Flush()
	size, err := s.Size()
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	fmt.Fprintf(sys.Stdout, "%d entries, %s in %s\n", len(infos), humanize.IBytes(uint64(size)), s.Dir)
	return nil
}

// cacheGC shrinks the store to --max-size.
func cacheGC(sys *IO, s *run.Store, args []string) error {
	fs := flag.NewFlagSet("cache gc", flag.ContinueOnError)
	fs.SetOutput(sys.Stderr)
	max := fs.String("max-size", humanize.IBytes(run.DefaultStoreMax), "keep the store under `SIZE` (bytes, or 500MB, 2GiB...)")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("cache gc takes only --max-size")
	}
	limit, err := humanize.ParseBytes(*max)
	if err != nil {
		return usagef("--max-size %q is not a size: write bytes, or a number with kB, MB, GiB...", *max)
	}
	r, err := s.GC(int64(limit))
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	fmt.Fprintf(sys.Stdout, "removed %d entries, %d blobs and %d temporary files, freed %s; %s left in %s\n",
		r.Entries, r.Blobs, r.Temps, humanize.IBytes(uint64(max64(r.Freed, 0))), humanize.IBytes(uint64(r.Left)), s.Dir)
	return nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
