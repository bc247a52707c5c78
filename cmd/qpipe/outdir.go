package main

import (
	"fmt"
	"os"
)

// checkOutDir makes sure the output directory can be created and written
// before "running … output in DIR" is printed, so the user is never told
// a run started into a folder it cannot use.
func checkOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s is not usable: %v", dir, unwrapPathErr(err))
	}
	f, err := os.CreateTemp(dir, ".qpipe-probe-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %v", dir, unwrapPathErr(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
