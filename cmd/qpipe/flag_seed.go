package main

import (
	"fmt"
	"strconv"
)

// seedFlag is --seed: a uint64 whose parse error says what a seed is
// (flag.Uint64Var answers "-5" with a bare "parse error").
type seedFlag struct{ v *uint64 }

func (f seedFlag) String() string {
	if f.v == nil {
		return "0"
	}
	return strconv.FormatUint(*f.v, 10)
}

func (f seedFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return fmt.Errorf("a seed is a whole number from 0 to %d (got %q)", uint64(1<<64-1), s)
	}
	*f.v = v
	return nil
}
