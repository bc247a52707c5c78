package project

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/qpipe/qpipe/lang/source"
)

// Executor is an `executor "slurm" { ... }` block: where the project's
// runs execute. With a slurm block, `qpipe run NAME` (and `qpipe run
// --executor slurm FILE` in the project's folder) submits the plan to
// Slurm with these settings; `--executor local` runs here anyway.
//
//	executor "slurm" {
//	  partition  = "gpu"
//	  account    = "proj42"
//	  time       = "2:00:00"
//	  gpus       = 1
//	  cpus       = 8
//	  mem        = "16G"
//	  extra_args = ["--qos=short"]
//	}
type Executor struct {
	Name      string // "slurm" or "local"
	Partition string
	Account   string
	Time      string
	GPUs      int
	CPUs      int
	Mem       string
	ExtraArgs []string
	// PerNode submits every plan node as its own job instead of every
	// branch's chain of nodes.
	PerNode bool
	// Qpipe is the qpipe binary on the compute nodes ("" means the
	// submitting binary's path).
	Qpipe string
	// Poll is how often the submitter asks the scheduler; 0 for its
	// default.
	Poll time.Duration
	Span source.Span
}

// Executors are the executor names a block may have.
var Executors = []string{"local", "slurm"}

var executorSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "partition"}, {Name: "account"},
	{Name: "time"}, {Name: "gpus"}, {Name: "cpus"}, {Name: "mem"}, {Name: "extra_args"}, {Name: "per_node"},
	{Name: "qpipe"}, {Name: "poll"}}}

func (d *decoder) executor(a *attrs, name string, b *hcl.Block) {
	if name != "local" && name != "slurm" {
		a.ds = append(a.ds, d.p.errorf(b.LabelRanges[0], `write executor "slurm" { partition = "..." } (or "local")`,
			"unknown executor %q (executors: %s)", name, strings.Join(Executors, ", ")))
		return
	}
	e := &Executor{Name: name, Partition: a.str("partition"), Account: a.str("account"), Time: a.str("time"),
		GPUs: a.int("gpus"), CPUs: a.int("cpus"), Mem: a.str("mem"), ExtraArgs: a.strings("extra_args"),
		PerNode: a.bool("per_node"), Qpipe: a.str("qpipe"), Span: d.p.span(&b.DefRange)}
	if a.has("poll") {
		s := a.str("poll")
		p, err := time.ParseDuration(s)
		if err != nil || p <= 0 {
			a.ds = append(a.ds, d.p.errorf(a.m["poll"].Expr.Range(), `write poll = "10s"`, "poll must be a positive duration, not %q", s))
		}
		e.Poll = p
	}
	for _, n := range []string{"gpus", "cpus"} {
		if a.has(n) && a.int(n) < 0 {
			a.ds = append(a.ds, d.p.errorf(a.m[n].Expr.Range(), fmt.Sprintf("write %s = 1", n), "%s must be at least 0", n))
		}
	}
	if name == "local" {
		for n, at := range a.m {
			a.ds = append(a.ds, d.p.errorf(at.NameRange, "the local executor takes no settings; remove it", "executor \"local\" has no attribute %s", n))
		}
	}
	d.p.Executors[name] = e
}

// strings reads a list of strings.
func (a *attrs) strings(name string) []string {
	v, ok := a.value(name, cty.DynamicPseudoType)
	if !ok {
		return nil
	}
	t := v.Type()
	if !t.IsTupleType() && !t.IsListType() {
		a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), fmt.Sprintf(`write %s = ["--qos=short"]`, name), "%s must be a list of strings", name))
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, x := it.Element()
		if x.Type() != cty.String || x.IsNull() {
			a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), fmt.Sprintf(`write %s = ["--qos=short"]`, name), "%s must be a list of strings", name))
			return nil
		}
		out = append(out, x.AsString())
	}
	return out
}
