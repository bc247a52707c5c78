package slurm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorded replays Slurm's answers recorded from the local cluster
// (scripts/slurm/start.sh, slurm-wlm 22.05): each call is matched by the
// command and the first argument that selects the answer.
type recorded struct {
	answers map[string]answer // "sbatch", "squeue", "scontrol show partition", ...
	calls   [][]string
	ids     []string // sbatch --parsable answers, in order
}

type answer struct {
	out string
	err string
}

func (r *recorded) Run(_ context.Context, name string, args ...string) (string, error) {
	r.calls = append(r.calls, append([]string{name}, args...))
	key := name
	if name == "scontrol" || name == "sinfo" {
		key = name + " " + args[0]
	}
	if name == "sbatch" && args[0] != "--test-only" && len(r.ids) > 0 {
		id := r.ids[0]
		r.ids = r.ids[1:]
		return id + "\n", nil
	}
	a, ok := r.answers[key]
	if !ok {
		return "", errors.New(name + ": no recorded answer")
	}
	if a.err != "" {
		return a.out, errors.New(name + ": " + a.err)
	}
	return a.out, nil
}

func (r *recorded) submitted() [][]string {
	var out [][]string
	for _, c := range r.calls {
		if c[0] == "sbatch" && c[1] != "--test-only" {
			out = append(out, c)
		}
	}
	return out
}

func TestInvalidPartitionBeforeSubmission(t *testing.T) {
	c := &recorded{answers: map[string]answer{
		"sinfo --version":         {out: "slurm-wlm 22.05.8\n"},
		"scontrol show":           {err: "Partition nope not found"},
		"sinfo -h":                {out: "debug\n"},
		"sbatch":                  {err: "error: invalid partition specified: nope"},
		"scontrol show partition": {err: "Partition nope not found"},
	}}
	err := Preflight(context.Background(), c, Settings{Partition: "nope"})
	if err == nil || !strings.Contains(err.Error(), `partition "nope" does not exist on this cluster (partitions: debug)`) ||
		!strings.Contains(err.Error(), "nothing was submitted") {
		t.Fatalf("error %v", err)
	}
	if len(c.submitted()) != 0 {
		t.Errorf("submitted %v", c.submitted())
	}
	// An account sbatch refuses is caught by --test-only.
	c = &recorded{answers: map[string]answer{"sinfo --version": {out: "slurm-wlm 22.05.8\n"},
		"sbatch": {err: "error: Batch job submission failed: Invalid account or account/partition combination specified"}}}
	err = Preflight(context.Background(), c, Settings{Account: "nobody", Time: "1:00"})
	if err == nil || !strings.Contains(err.Error(), "--account=nobody --time=1:00") || !strings.Contains(err.Error(), "Invalid account") {
		t.Fatalf("error %v", err)
	}
}

func TestSubmitChainsAndArrays(t *testing.T) {
	p := plan(t, sweep)
	out := t.TempDir()
	spec := &Spec{Recipe: "r.qpipe", Out: out, Workdir: out, Settings: Settings{Qpipe: "/opt/qpipe bin/qpipe", CPUs: 2, Mem: "4G"},
		Graph: Build(p, Options{}), Keys: Keys(p)}
	c := &recorded{ids: []string{"18", "19", "20"}}
	if err := Submit(context.Background(), c, spec); err != nil {
		t.Fatal(err)
	}
	subs := c.submitted()
	if len(subs) != 3 {
		t.Fatalf("%d submissions: %v", len(subs), subs)
	}
	has := func(call []string, arg string) bool {
		for _, a := range call {
			if a == arg {
				return true
			}
		}
		return false
	}
	for _, want := range []struct {
		call int
		args []string
	}{
		{0, []string{"--parsable", "--cpus-per-task=2", "--mem=4G", "--kill-on-invalid-dep=yes"}},
		{1, []string{"--array=0-2", "--dependency=afterok:18"}},
		{2, []string{"--dependency=afterok:18"}},
	} {
		for _, a := range want.args {
			if !has(subs[want.call], a) {
				t.Errorf("submission %d lacks %s: %v", want.call, a, subs[want.call])
			}
		}
	}
	if has(subs[0], "--array=0-2") || strings.Contains(strings.Join(subs[0], " "), "--dependency") {
		t.Errorf("the first job has an array or a dependency: %v", subs[0])
	}
	script, err := os.ReadFile(subs[1][len(subs[1])-1])
	if err != nil {
		t.Fatal(err)
	}
	if want := `exec '/opt/qpipe bin/qpipe' exec-node --spec '` + SpecFile(out) + `' --job 1`; !strings.Contains(string(script), want) {
		t.Errorf("script:\n%s\nwant %s", script, want)
	}
	back, err := ReadSpec(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(back.IDs, ",") != "18,19,20" || back.LogPath(1, 2) != filepath.Join(out, "slurm", "logs", "job1_2-19.out") {
		t.Errorf("ids %v, log %s", back.IDs, back.LogPath(1, 2))
	}
}

// TestPollRecorded reads the states squeue reported for a run whose
// first job was cancelled: the array waiting on it is cancelled by Slurm
// (DependencyNeverSatisfied), and the cancelled job comes first among
// the failures.
func TestPollRecorded(t *testing.T) {
	p := plan(t, sweep)
	out := t.TempDir()
	spec := &Spec{Out: out, Graph: Build(p, Options{}), IDs: []string{"22", "23", "24"},
		Logs: []string{"l/job0-%j.out", "l/job1_%a-%A.out", "l/job2-%j.out"}}
	c := &recorded{answers: map[string]answer{
		"squeue": {out: "22|CANCELLED|None\n23_0|CANCELLED|DependencyNeverSatisfied\n23_1|CANCELLED|DependencyNeverSatisfied\n23_2|CANCELLED|DependencyNeverSatisfied\n24|PENDING|Dependency\n"},
	}}
	units := spec.Units()
	if len(units) != 5 {
		t.Fatalf("%d units", len(units))
	}
	if err := Poll(context.Background(), c, spec, units); err != nil {
		t.Fatal(err)
	}
	if allTerminal(units) {
		t.Error("job 24 is pending, yet all are terminal")
	}
	units[4].State = "CANCELLED"
	units[4].Reason = "DependencyNeverSatisfied"
	failed := Failed(spec, units)
	if len(failed) != 5 || failed[0].Unit.ID != "22" || failed[0].Blocked() || !failed[1].Blocked() {
		t.Fatalf("failed %v", failed)
	}
	msg := failed[0].Error()
	for _, want := range []string{"job 22 ended CANCELLED: nodes 1-2", "cancelled (scancel, or a preemption)", "Slurm log: l/job0-22.out"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if got := failed[2].Log; got != "l/job1_1-23.out" {
		t.Errorf("log of 23_1: %s", got)
	}
}

// Jobs squeue has forgotten are read from exit.json, else from sacct
// where the cluster keeps accounting (the answer's format is sacct -P's,
// from Slurm's documentation: this cluster has no accounting), else they
// are UNKNOWN.
func TestForgottenJobs(t *testing.T) {
	p := plan(t, sweep)
	out := t.TempDir()
	spec := &Spec{Out: out, Graph: Build(p, Options{}), IDs: []string{"30", "31", "32"}, Logs: []string{"a", "b", "c"}}
	if err := os.MkdirAll(PartDir(out, 0, -1), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeExit(PartDir(out, 0, -1), &Exit{OK: true}); err != nil {
		t.Fatal(err)
	}
	if err := writeExit(mkdir(t, PartDir(out, 1, 2)), &Exit{Error: "r.qpipe:5:3: train: loss is NaN", Node: "3.3.2"}); err != nil {
		t.Fatal(err)
	}
	noAcct := &recorded{answers: map[string]answer{"squeue": {err: "error: Invalid job id specified"},
		"scontrol show": {out: "AccountingStorageType   = accounting_storage/none\n"}}}
	units := spec.Units()
	if err := Poll(context.Background(), noAcct, spec, units); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, u := range units {
		got = append(got, u.ID+"="+u.State)
	}
	if strings.Join(got, " ") != "30=COMPLETED 31_0=UNKNOWN 31_1=UNKNOWN 31_2=FAILED 32=UNKNOWN" {
		t.Errorf("states %v", got)
	}
	acct := &recorded{answers: map[string]answer{"squeue": {out: ""},
		"scontrol show": {out: "AccountingStorageType   = accounting_storage/slurmdbd\n"},
		"sacct":         {out: "31_0|COMPLETED\n31_1|CANCELLED by 0\n32|TIMEOUT\n"}}}
	units = spec.Units()
	if err := Poll(context.Background(), acct, spec, units); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, u := range units {
		got = append(got, u.ID+"="+u.State)
	}
	if strings.Join(got, " ") != "30=COMPLETED 31_0=COMPLETED 31_1=CANCELLED 31_2=FAILED 32=TIMEOUT" {
		t.Errorf("states %v", got)
	}
	f := Failed(spec, units)
	if len(f) != 3 || !strings.Contains(f[1].Error(), "error: r.qpipe:5:3: train: loss is NaN") ||
		!strings.Contains(f[2].Error(), "past its time limit") {
		t.Errorf("failed %v", f)
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
