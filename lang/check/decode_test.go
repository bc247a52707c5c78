package check

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeFillsTypedFields(t *testing.T) {
	s := &Step{Verb: "fit", Args: map[string]Value{
		"epochs": {Kind: VInt, Int: 3}, "lr": {Kind: VFloat, Float: 1e-3}, "opt": {Kind: VIdent, Str: "adamw"},
		"budget": {Kind: VFloat, Float: 0.005, Unit: "ms"}, "aug": {Kind: VBool, Bool: true}, "seed": {Kind: VInt, Int: 7},
		"eps": {Kind: VList, List: []Value{{Kind: VFloat, Float: 0.1}, {Kind: VInt, Int: 1}}},
	}, Words: map[string]Value{"what": {Kind: VList, List: []Value{{Kind: VIdent, Str: "acc"}, {Kind: VIdent, Str: "time"}}}}}
	var got struct {
		Epochs  int           `arg:"epochs"`
		LR      float64       `arg:"lr"`
		Opt     string        `arg:"opt"`
		Budget  time.Duration `arg:"budget"`
		Aug     bool          `arg:"aug"`
		Seed    uint64        `arg:"seed"`
		Eps     []float64     `arg:"eps"`
		What    []string      `word:"what"`
		Missing int           `arg:"missing"`
		Plain   int
	}
	got.Missing, got.Plain = 5, 6
	if err := s.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Epochs != 3 || got.LR != 1e-3 || got.Opt != "adamw" || got.Budget != 5*time.Millisecond || !got.Aug || got.Seed != 7 ||
		len(got.Eps) != 2 || got.Eps[1] != 1 || strings.Join(got.What, ",") != "acc,time" || got.Missing != 5 || got.Plain != 6 {
		t.Errorf("decoded %+v", got)
	}
	var bad struct {
		Opt int `arg:"opt"`
	}
	if err := s.Decode(&bad); err == nil || !strings.Contains(err.Error(), "field Opt: want an integer, the step has adamw") {
		t.Errorf("wrong kind: %v", err)
	}
	if err := s.Decode(got); err == nil {
		t.Error("decoding into a non-pointer succeeded")
	}
}
