package onnx

import (
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
)

// Figures for docs/onnx-coverage.md (QPIPE_FIGURES=1; timings on a shared
// machine: note the load). Not run by default.

// TestTorchvisionImportTimes prints the time to import, and to run one
// 224x224 image through, resnet18, swin_t and vit_b_16 (opset 17, dynamic
// batch; forward: median of 5 after one warm-up).
func TestTorchvisionImportTimes(t *testing.T) {
	if os.Getenv("QPIPE_FIGURES") == "" {
		t.Skip("set QPIPE_FIGURES=1 to measure import and run times at 224x224")
	}
	keys := []string{zooKey("resnet18", 224, 17, "dyn"), zooKey("swin_t", 224, 17, "dyn"), zooKey("vit_b_16", 224, 17, "dyn")}
	dir := zooExports(t, keys...)
	for _, key := range keys {
		if _, err := os.Stat(dir + "/" + key + "/meta.json"); err != nil && os.Getenv("QPIPE_ZOO_CACHED_ONLY") != "" {
			t.Logf("%s: not exported yet", key)
			continue
		}
		cpu0 := cpuTime()
		r := checkZoo(t, dir, key)
		if r.err != nil {
			t.Fatalf("%s: %v", key, r.err)
		}
		cpu := cpuTime() - cpu0
		x := readNpy(t, dir+"/"+key+"/x.npy")
		one := ops.MustFromData(x.Data[:ops.Numel(x.Shape[1:])], append([]int{1}, x.Shape[1:]...)...)
		c := evalCtx(t)
		var times []time.Duration
		for i := range 6 {
			t0 := time.Now()
			if _, err := r.model.Forward1(c, one); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				times = append(times, time.Since(t0))
			}
			c.Reset()
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		t.Logf("%s: import %v, one image %v (median of 5), rel. logit error %.1e; CPU time of import and the batch-2 check %v", key,
			r.importT.Round(time.Millisecond), times[2].Round(time.Millisecond), r.relErr, cpu.Round(time.Millisecond))
	}
}

// TestTorchvisionImportPeakMemory prints the process's peak resident
// memory (VmHWM) after importing the largest export, vgg11 at 224x224
// (133 M parameters, a 507 MB file); run it alone so that the peak is
// the import's.
func TestTorchvisionImportPeakMemory(t *testing.T) {
	if os.Getenv("QPIPE_FIGURES") == "" {
		t.Skip("set QPIPE_FIGURES=1 to measure the peak memory of importing vgg11")
	}
	key := zooKey("vgg11", 224, 17, "dyn")
	dir := zooExports(t, key)
	fi, err := os.Stat(dir + "/" + key + "/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	m, err := Import(dir+"/"+key+"/model.onnx", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	b, _ := os.ReadFile("/proc/self/status")
	var hwm string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			hwm = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	runtime.KeepAlive(m)
	t.Logf("%s: file %d MB, %d parameters, import %v, peak RSS %s", key, fi.Size()>>20, paramCount(m), took.Round(time.Millisecond), hwm)
}

func paramCount(m *ops.Model) int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Value.Data)
	}
	return n
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
