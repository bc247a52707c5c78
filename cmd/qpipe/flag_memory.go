package main

import (
	"flag"

	"github.com/qpipe/qpipe/internal/bounded"
)

// registerMaxMemory adds --max-memory SIZE: the most one loaded object (a
// model file, a tensor, a dataset) may take, checked before it is
// allocated. The default is QPIPE_MAX_MEMORY, else half of the machine's
// memory (package internal/bounded).
func registerMaxMemory(fs *flag.FlagSet) {
	fs.Func("max-memory", "memory budget for loading models and datasets, e.g. 4GiB or 512MB (default $"+bounded.EnvVar+", else half of RAM)", func(s string) error {
		n, err := bounded.ParseSize(s)
		if err != nil {
			return err
		}
		bounded.SetBudget(n)
		return nil
	})
}
