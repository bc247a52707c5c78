package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/bench"
)

func init() {
	register(&command{
		Name:    "bench",
		Args:    "NAME [--format text|json] [--size N]... [--seconds S] [--threads T] [--device cpu|cuda] [--cpuprofile FILE]",
		Summary: "run a benchmark of the engine (" + strings.Join(bench.Names(), ", ") + ")",
		Flags:   benchFlags,
	})
}

func benchFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var o bench.Options
	var sizes intList
	fs.StringVar(&o.Format, "format", "text", "output `format`: text (a table) or json (one object per line)")
	fs.Var(&sizes, "size", "problem `size` (repeatable; default: the benchmark's own)")
	fs.Float64Var(&o.Seconds, "seconds", 0, "measuring time per case in `seconds` (0: the benchmark's default)")
	fs.IntVar(&o.Threads, "threads", 0, "worker `threads` (0: all cores)")
	fs.StringVar(&o.Device, "device", "", "backend of the model benchmarks (train, infer-int8, gemm-cuda): cpu or cuda")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (read it with go tool pprof)")
	return func(sys *IO, args []string) error {
		o.Sizes = sizes
		if *profile == "" {
			return runBench(sys, o, args)
		}
		f, err := os.Create(*profile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
		return runBench(sys, o, args)
	}
}

func runBench(sys *IO, o bench.Options, args []string) error {
	if len(args) != 1 {
		return usagef("bench takes one NAME: %s", strings.Join(bench.Names(), ", "))
	}
	if err := oneOf("format", o.Format, "text", "json"); err != nil {
		return err
	}
	if o.Seconds < 0 || o.Threads < 0 {
		return usagef("--seconds and --threads cannot be negative")
	}
	if o.Device != "" {
		if err := checkDevice(o.Device); err != nil {
			return err
		}
	}
	name := args[0]
	if !isBench(name) {
		return usagef("unknown benchmark %q; known: %s%s", name, strings.Join(bench.Names(), ", "), didYouMean(name, bench.Names()))
	}
	return bench.Run(name, o, sys.Stdout)
}

func isBench(name string) bool {
	for _, n := range bench.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// intList collects repeated positive integer flags.
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return strconv.ErrSyntax
	}
	*l = append(*l, n)
	return nil
}
