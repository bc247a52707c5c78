package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// bindings are the --model, --data and --set flags plan and run share.
type bindings struct {
	model, data string
	sets        setFlag
	seed        uint64
}

func (b *bindings) register(fs *flag.FlagSet, withSet bool) {
	fs.StringVar(&b.model, "model", "", "`model` to start from (zoo name or .onnx/.safetensors path); wins over the recipe's model line")
	fs.StringVar(&b.data, "data", "", "`dataset` to bind; wins over the recipe's data line")
	if withSet {
		fs.Var(&b.sets, "set", "override a let: --set `name=value` (repeatable)")
	}
}

func (b *bindings) checkOptions() check.Options {
	return check.Options{ModelBound: b.model != "", DataBound: b.data != "", Sets: b.sets.m}
}

// setFlag collects repeated --set name=value flags.
type setFlag struct{ m map[string]string }

func (s *setFlag) String() string {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k+"="+s.m[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (s *setFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" || value == "" {
		return fmt.Errorf("want name=value, not %q", v)
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	if _, dup := s.m[name]; dup {
		return fmt.Errorf("%s is set twice", name)
	}
	s.m[name] = value
	return nil
}
