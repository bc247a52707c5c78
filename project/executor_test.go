package project

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExecutorBlock(t *testing.T) {
	p, ds := Parse("p.hcl", []byte(`executor "slurm" {
  partition  = "gpu"
  account    = "proj42"
  time       = "2:00:00"
  gpus       = 1
  cpus       = 8
  mem        = "16G"
  extra_args = ["--qos=short", "--constraint=a100"]
  per_node   = true
  qpipe      = "/opt/qpipe/bin/qpipe"
  poll       = "10s"
}
`))
	if len(ds) > 0 {
		t.Fatal(render(p, ds))
	}
	want := &Executor{Name: "slurm", Partition: "gpu", Account: "proj42", Time: "2:00:00", GPUs: 1, CPUs: 8, Mem: "16G",
		ExtraArgs: []string{"--qos=short", "--constraint=a100"}, PerNode: true, Qpipe: "/opt/qpipe/bin/qpipe", Poll: 10 * time.Second}
	got := p.Executors["slurm"]
	got.Span = want.Span
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestExecutorErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown executor", "executor \"pbs\" {\n}\n",
			"p.hcl:1:10: error: unknown executor \"pbs\" (executors: local, slurm)\n  executor \"pbs\" {\n           ^^^^^\n  write executor \"slurm\" { partition = \"...\" } (or \"local\")\n"},
		{"wrong type", "executor \"slurm\" {\n  gpus = \"one\"\n}\n",
			"p.hcl:2:10: error: gpus must be a number, not a string\n"},
		{"extra args", "executor \"slurm\" {\n  extra_args = \"--qos=short\"\n}\n",
			"p.hcl:2:16: error: extra_args must be a list of strings\n"},
		{"poll", "executor \"slurm\" {\n  poll = \"often\"\n}\n",
			"p.hcl:2:10: error: poll must be a positive duration, not \"often\"\n"},
		{"unknown attribute", "executor \"slurm\" {\n  partitoin = \"gpu\"\n}\n",
			"p.hcl:2:3: error: Unsupported argument"},
		{"local settings", "executor \"local\" {\n  cpus = 2\n}\n",
			"p.hcl:2:3: error: executor \"local\" has no attribute cpus\n"},
		{"twice", "executor \"slurm\" {\n}\nexecutor \"slurm\" {\n}\n",
			"p.hcl:3:10: error: executor \"slurm\" is defined twice\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := Parse("p.hcl", []byte(tc.text))
			if !ds.HasErrors() {
				t.Fatal("no error")
			}
			if got := render(p, ds); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got:\n%s\nwant prefix:\n%s", got, tc.want)
			}
		})
	}
}
