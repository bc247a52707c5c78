package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qpipe/qpipe/stdlib/run"
	"github.com/qpipe/qpipe/stdlib/run/slurm"
)

// Tests against a real Slurm: the single-node cluster scripts/slurm/start.sh
// starts on this machine. Without one they skip, unless
// QPIPE_REQUIRE_SLURM=1 (.ci/run sets it after starting the cluster).
// The jobs run this test binary as qpipe (TestMain, QPIPE_TEST_AS_QPIPE).

func needSlurm(t *testing.T) {
	t.Helper()
	out, err := exec.Command("sinfo", "-h", "-o", "%T").Output()
	state := strings.TrimSpace(string(out))
	if err == nil && (strings.HasPrefix(state, "idle") || strings.HasPrefix(state, "mixed") || strings.HasPrefix(state, "allocated")) {
		return
	}
	why := "no Slurm cluster is running here (sinfo: " + strings.TrimSpace(state+" "+errString(err)) + "); start one with scripts/slurm/start.sh (as root)"
	if os.Getenv("QPIPE_REQUIRE_SLURM") == "1" {
		t.Fatal(why + "; QPIPE_REQUIRE_SLURM=1 requires it")
	}
	t.Skip(why)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// syncBuffer is a bytes.Buffer safe to read while qpipe writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// qpipeIn runs qpipe in-process in the current folder.
func qpipeIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := Main(args, &IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: os.Getenv})
	return code, out.String(), errb.String()
}

// slurmDir makes a folder with the recipe and a qpipe.hcl that polls
// often, runs the test there with its own step store, and lets the jobs
// run this test binary as qpipe.
func slurmDir(t *testing.T, recipe, hcl string) string {
	t.Helper()
	needSlurm(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sweep.qpipe"), []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	if hcl == "" {
		hcl = "executor \"slurm\" {\n  poll = \"300ms\"\n}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "qpipe.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("QPIPE_CACHE", filepath.Join(dir, "store"))
	t.Setenv("QPIPE_TEST_AS_QPIPE", "1")
	return dir
}

// seeded is a 3-branch seeded sweep of seconds per branch.
const seeded = `data mnist subset=1000
for s in [1, 2, 3] {
  model mlp seed=s
  train epochs=2
  evaluate accuracy
}
`

func metricsByNode(t *testing.T, dir string) map[string]map[string]float64 {
	t.Helper()
	r, err := run.ReadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]map[string]float64{}
	for _, s := range r.Steps {
		m[s.Node] = s.Metrics
	}
	return m
}

// TestSlurmSameMetrics: the 3-branch seeded recipe gives the same
// metrics on Slurm as here, its for sweep runs as one job array, and a
// second run submits nothing.
func TestSlurmSameMetrics(t *testing.T) {
	dir := slurmDir(t, seeded, "")
	if code, _, stderr := qpipeIn(t, "", "run", "--executor", "local", "--out", "local", "sweep.qpipe"); code != 0 {
		t.Fatalf("local run: exit %d\n%s", code, stderr)
	}
	t.Setenv("QPIPE_CACHE", filepath.Join(dir, "store2"))
	code, stdout, stderr := qpipeIn(t, "", "run", "--out", "onslurm", "sweep.qpipe") // the executor block chooses slurm
	if code != 0 {
		t.Fatalf("slurm run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"submitted 2 jobs of sweep.qpipe to Slurm: 10 of 10 nodes to run",
		"--array=0-2, --dependency=afterok:", "branch s=2: COMPLETED", "[10/10] "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	local, remote := metricsByNode(t, "local"), metricsByNode(t, "onslurm")
	if len(remote) != 10 || len(remote["2.3.3"]) == 0 {
		t.Fatalf("slurm report: %v", remote)
	}
	for node, m := range local {
		for k, v := range m {
			if remote[node][k] != v {
				t.Errorf("node %s %s: %v on Slurm, %v here", node, k, remote[node][k], v)
			}
		}
	}
	spec, err := slurm.ReadSpec("onslurm")
	if err != nil {
		t.Fatal(err)
	}
	arr := spec.Graph.Jobs[1]
	if !arr.Array || slurm.ArraySpec(arr.Indices) != "0-2" || len(arr.Elements) != 3 {
		t.Errorf("the sweep's job: %+v", arr)
	}
	if _, err := os.Stat(filepath.Join("onslurm", "report.html")); err != nil {
		t.Error(err)
	}
	code, _, stderr = qpipeIn(t, "", "run", "--out", "onslurm", "sweep.qpipe")
	if code != 0 || !strings.Contains(stderr, "all 10 nodes of sweep.qpipe are in the step store; nothing to submit") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
}

// TestSlurmKilledJob: scancel on one branch's job fails the run with the
// job's state and log; running again resubmits that branch only.
func TestSlurmKilledJob(t *testing.T) {
	slurmDir(t, strings.Replace(seeded, "epochs=2", "epochs=300", 1), "")
	code, _, stderr := qpipeIn(t, "", "run", "--executor", "slurm", "--detach", "--out", "o", "sweep.qpipe")
	if code != 0 || !strings.Contains(stderr, "detached:") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	spec, err := slurm.ReadSpec("o")
	if err != nil {
		t.Fatal(err)
	}
	victim := spec.IDs[1] + "_1"
	waitState(t, victim, "RUNNING")
	code, _, stderr = qpipeIn(t, "", "run", "--executor", "slurm", "--out", "o", "sweep.qpipe")
	if code != 1 || !strings.Contains(stderr, "jobs of an earlier run into ") || !strings.Contains(stderr, "scancel "+strings.Join(spec.IDs, " ")) {
		t.Errorf("a second submission while the jobs run: exit %d\n%s", code, stderr)
	}
	code, _, stderr = qpipeIn(t, "", "status", "o")
	if code != 0 || !strings.Contains(stderr, "sweep.qpipe: submitted ") || !strings.Contains(stderr, "2 jobs (4 units with array elements)") ||
		!strings.Contains(stderr, "  job "+victim+" ") || !strings.Contains(stderr, "the run is not over") {
		t.Errorf("status while running: exit %d\n%s", code, stderr)
	}
	if out, err := exec.Command("scancel", victim).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	code, _, stderr = qpipeIn(t, "", "status", "--wait", "o")
	if code != 1 {
		t.Fatalf("status --wait after scancel: exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{"job " + victim + " ended CANCELLED: nodes 2.2.1-2.2.3, branch s=2",
		"Slurm log: " + spec.LogPath(1, 1), "1 job of 4 did not finish"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	r, err := run.ReadReport("o")
	if err != nil {
		t.Fatal(err)
	}
	// the killed branch's first step (its model, 2.2.1) may have finished
	// before scancel reached the job: then it is stored, and the rerun
	// takes it from the store
	modelDone := false
	for _, s := range r.Steps {
		inKilled := strings.HasPrefix(s.Node, "2.2.")
		if s.Node == "2.2.1" {
			modelDone = s.Status == run.StatusDone
		} else if inKilled == (s.Status == run.StatusDone) {
			t.Errorf("node %s: %s", s.Node, s.Status)
		}
	}
	code, _, stderr = qpipeIn(t, "", "run", "--executor", "slurm", "--out", "o", "sweep.qpipe")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	toRun := "3 of 10 nodes to run (7 in the step store)"
	if modelDone {
		toRun = "2 of 10 nodes to run (8 in the step store)"
	}
	if !strings.Contains(stderr, "submitted 1 job of sweep.qpipe to Slurm: "+toRun) ||
		!strings.Contains(stderr, "--array=1") {
		t.Errorf("second run did not resubmit branch s=2 only (want %q):\n%s", toRun, stderr)
	}
	r, err = run.ReadReport("o")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Steps {
		want := run.StatusCached
		if strings.HasPrefix(s.Node, "2.2.") && !(s.Node == "2.2.1" && modelDone) {
			want = run.StatusDone
		}
		if s.Status != want {
			t.Errorf("rerun: node %s %s, want %s", s.Node, s.Status, want)
		}
	}
}

// waitState waits until squeue shows the job in state.
func waitState(t *testing.T, id, state string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("squeue", "-h", "-r", "-t", "all", "-j", strings.Split(id, "_")[0], "-o", "%i %T").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == id {
				if f[1] == state {
					return
				}
				if f[1] == "COMPLETED" || f[1] == "FAILED" {
					t.Fatalf("job %s ended %s before it was seen %s", id, f[1], state)
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s never %s", id, state)
}

// TestSlurmInvalidPartition: a partition the cluster lacks is a located
// error before anything is submitted.
func TestSlurmInvalidPartition(t *testing.T) {
	slurmDir(t, seeded, "executor \"slurm\" {\n  partition = \"nope\"\n}\n")
	code, _, stderr := qpipeIn(t, "", "run", "--out", "o", "sweep.qpipe")
	if code != 1 || !strings.Contains(stderr, `qpipe run: partition "nope" does not exist on this cluster (partitions: debug)`) ||
		!strings.Contains(stderr, "nothing was submitted") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(slurm.SpecFile("o")); !os.IsNotExist(err) {
		t.Errorf("a run was recorded: %v", err)
	}
}

// TestSlurmCtrlC: Ctrl-C while following asks, and "y" cancels every job
// of the run.
func TestSlurmCtrlC(t *testing.T) {
	slurmDir(t, seeded, "")
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Main([]string{"run", "--out", "o", "sweep.qpipe"}, &IO{Stdin: strings.NewReader("y\n"), Stdout: &out, Stderr: &errb, Getenv: os.Getenv})
	}()
	// The follower prints the jobs' states once it listens for signals.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(errb.String(), ": PENDING") && !strings.Contains(errb.String(), ": RUNNING") {
		if time.Now().After(deadline) {
			t.Fatalf("no job state printed:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := <-done
	stderr := errb.String()
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted: cancel the run's 2 jobs (scancel ") ||
		!strings.Contains(stderr, "cancelled 2 jobs; finished nodes are in the step store") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	spec, err := slurm.ReadSpec("o")
	if err != nil {
		t.Fatal(err)
	}
	units := spec.Units()
	for time.Now().Before(deadline) {
		if err := slurm.Poll(t.Context(), slurm.Commands{}, spec, units); err != nil {
			t.Fatal(err)
		}
		ended := 0
		for _, u := range units {
			if u.Terminal() {
				ended++
			}
		}
		if ended == len(units) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, u := range units {
		if u.State != "CANCELLED" {
			t.Errorf("job %s is %s after the cancel", u.ID, u.State)
		}
	}
}

// TestSlurmDryRun lists the jobs of examples/robustness.qpipe without a
// cluster: the data line and lets, the two networks as an array, and per
// network its three arms as arrays after that network's element.
func TestSlurmDryRun(t *testing.T) {
	t.Setenv("QPIPE_CACHE", t.TempDir())
	code, stdout, stderr := qpipeIn(t, "", "run", "--executor", "slurm", "--dry-run", "--out", filepath.Join(t.TempDir(), "o"), filepath.Join("..", "..", "examples", "robustness.qpipe"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"8 jobs would be submitted for ../../examples/robustness.qpipe: 38 of 38 nodes to run (0 in the step store)\n",
		"  1-4      nodes 1-4\n",
		"  5[]      array of 2 branches (net=mlp, net=cnn), --array=0-1, after 1-4\n",
		"  5.1.6[]  array of 2 branches (ratio=0.5, ratio=0.8), --array=0-1, after 5[] element 0\n",
		"  5.2.7[]  array of 1 branch (width=0.5), --array=0, after 5[] element 1\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := qpipeIn(t, "", "run", "--executor", "local", "--detach", filepath.Join("..", "..", "examples", "robustness.qpipe")); code != 2 || !strings.Contains(stderr, "they need --executor slurm") {
		t.Errorf("--detach with local: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := qpipeIn(t, "", "run", "--executor", "pbs", filepath.Join("..", "..", "examples", "robustness.qpipe")); code != 2 || !strings.Contains(stderr, "--executor must be one of local, slurm, not \"pbs\"") {
		t.Errorf("--executor pbs: exit %d\n%s", code, stderr)
	}
	nowhere := t.TempDir()
	if code, _, stderr := qpipeIn(t, "", "status", nowhere); code != 1 || !strings.Contains(stderr, nowhere+" has no Slurm run (no "+slurm.SpecFile(nowhere)+"): was it run with --executor slurm?") {
		t.Errorf("status of a folder without a run: exit %d\n%s", code, stderr)
	}
}

// TestSlurmStepErrorIsLocated: a step that fails in a job is printed at
// its recipe line with a caret, as a local run prints it, with the job and
// its Slurm log; the other branch's results are in the report.
func TestSlurmStepErrorIsLocated(t *testing.T) {
	slurmDir(t, `data mnist subset=300
for need in [10%, 99%] {
  model mlp
  train epochs=1
  evaluate accuracy
  expect accuracy >= need
}
`, "")
	code, _, stderr := qpipeIn(t, "", "run", "--executor", "slurm", "--out", "o", "sweep.qpipe")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	spec, err := slurm.ReadSpec("o")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sweep.qpipe:6:3: error: expect failed: accuracy >= need is false (accuracy = ",
		"    expect accuracy >= need\n    ^^^^^^^^^^^^^^^^^^^^^^^\n",
		"job " + spec.IDs[1] + "_1 ended FAILED: nodes 2.2.1-2.2.4, branch need=99%",
		"  Slurm log: " + spec.LogPath(1, 1) + "\n",
		"qpipe run: 1 job of 3 did not finish",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(spec.LogPath(1, 1)); err != nil {
		t.Errorf("the log named does not exist: %v", err)
	}
	m := metricsByNode(t, "o")
	if m["2.1.3"]["accuracy"] <= 0.1 || m["2.2.3"]["accuracy"] >= 0.99 {
		t.Errorf("metrics %v", m)
	}
}
