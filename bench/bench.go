// Package bench is the registry behind `qpipe bench NAME`: named benchmarks
// that emit results, and the text and JSON formats they are printed in.
//
// A benchmark is a Func registered under a name (usually from an init func
// in its own file). Run looks it up, calls it with the Options and prints
// each Result as it comes: one JSON object per line for "json", an aligned
// table for "text".
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
)

// Result is one measurement. In JSON it is a flat object:
// {"bench":..,"case":..,"value":..,"unit":.., ...Extra}.
type Result struct {
	Bench string
	Case  string
	Value float64
	Unit  string
	Extra map[string]any
}

// MarshalJSON flattens Extra into the object; the four fixed keys win.
func (r Result) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r.Extra)+4)
	for k, v := range r.Extra {
		m[k] = v
	}
	m["bench"], m["case"], m["value"], m["unit"] = r.Bench, r.Case, r.Value, r.Unit
	return json.Marshal(m)
}

// Options are the knobs every benchmark receives; zero values mean the
// benchmark's defaults.
type Options struct {
	Format  string  // "text" (default) or "json"
	Sizes   []int   // problem sizes, if the benchmark has any
	Seconds float64 // measuring time per case
	Threads int     // worker threads (0: all cores)
	Device  string  // backend of the model benchmarks: "" or "cpu", "cuda"
}

// Func runs a benchmark, calling emit once per result.
type Func func(opts Options, emit func(Result)) error

type entry struct {
	summary string
	f       Func
}

var (
	mu       sync.Mutex
	registry = map[string]entry{}
)

// Register adds a benchmark; it panics on a duplicate name.
func Register(name, summary string, f Func) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("bench: duplicate benchmark " + name)
	}
	registry[name] = entry{summary, f}
}

// Names lists the registered benchmarks in order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Summary returns a benchmark's one-line description ("" if unknown).
func Summary(name string) string {
	mu.Lock()
	defer mu.Unlock()
	return registry[name].summary
}

// Run runs benchmark name and writes its results to w in opts.Format. An
// unknown name or format is an error that lists the valid ones.
func Run(name string, opts Options, w io.Writer) error {
	mu.Lock()
	e, ok := registry[name]
	mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown benchmark %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	var p printer
	switch opts.Format {
	case "", "text":
		p = newTextPrinter(w)
	case "json":
		p = &jsonPrinter{enc: json.NewEncoder(w)}
	default:
		return fmt.Errorf("unknown format %q (want text or json)", opts.Format)
	}
	err := e.f(opts, func(r Result) {
		if r.Bench == "" {
			r.Bench = name
		}
		p.print(r)
	})
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	return err
}

type printer interface {
	print(Result)
	flush() error
}

type jsonPrinter struct {
	enc *json.Encoder
	err error
}

func (p *jsonPrinter) print(r Result) {
	if p.err == nil {
		p.err = p.enc.Encode(r)
	}
}

func (p *jsonPrinter) flush() error { return p.err }

// textPrinter aligns results in columns: bench, case, value, unit, then the
// Extra keys as key=value in sorted order. Rows print as they come, so it
// flushes after each one.
type textPrinter struct {
	tw     *tabwriter.Writer
	header bool
}

func newTextPrinter(w io.Writer) *textPrinter {
	return &textPrinter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
}

func (p *textPrinter) print(r Result) {
	if !p.header {
		fmt.Fprintln(p.tw, "bench\tcase\tvalue\tunit\t")
		p.header = true
	}
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	extra := make([]string, len(keys))
	for i, k := range keys {
		extra[i] = fmt.Sprintf("%s=%v", k, r.Extra[k])
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%.1f\t%s\t  %s\n", r.Bench, r.Case, r.Value, r.Unit, strings.Join(extra, " "))
}

func (p *textPrinter) flush() error { return p.tw.Flush() }
