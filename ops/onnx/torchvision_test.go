package onnx

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
)

// Import coverage against torchvision 0.14's classifiers, exported by
// scripts/torchvision_zoo.py the way PyTorch users export them. The
// exports (some hundreds of MB) are made on first use and cached in
// zooCache(); delete the folder to remake them.

const torchvisionHint = "apt-get install -y python3-torch python3-torchvision python3-onnx"

// zooCache is $QPIPE_CACHE/onnxzoo, or the user cache's qpipe/onnxzoo.
func zooCache(t testing.TB) string {
	t.Helper()
	base := os.Getenv("QPIPE_CACHE")
	if base == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("no cache folder (%v): set QPIPE_CACHE", err)
		}
		base = filepath.Join(d, "qpipe")
	}
	dir := filepath.Join(base, "onnxzoo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var exportMu sync.Mutex

// zooExports makes the exports named by keys that the cache lacks, in
// one run of the generator, and returns the cache folder.
func zooExports(t testing.TB, keys ...string) string {
	t.Helper()
	exportMu.Lock()
	defer exportMu.Unlock()
	dir := zooCache(t)
	var missing []string
	for _, k := range keys {
		_, err := os.Stat(filepath.Join(dir, k, "meta.json"))
		_, failed := os.Stat(filepath.Join(dir, k, "error.txt"))
		if err != nil && failed != nil {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 || os.Getenv("QPIPE_ZOO_CACHED_ONLY") != "" {
		return dir
	}
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import torchvision, onnx").CombinedOutput(); err != nil {
		t.Fatalf("Debian's PyTorch, torchvision and ONNX are needed to export the zoo (%v: %s): %s", err, strings.TrimSpace(string(out)), torchvisionHint)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "torchvision_zoo.py"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exporting %d torchvision models to %s (once; cached)", len(missing), dir)
	cmd := exec.Command(py, append([]string{script, "--out", dir}, missing...)...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("generator: %v\n%s", err, tail(string(out), 2000))
	}
	return dir
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// zooMeta is the generator's meta.json.
type zooMeta struct {
	Arch        string         `json:"arch"`
	Size        int            `json:"size"`
	Opset       int            `json:"opset"`
	Mode        string         `json:"mode"`
	ExportBatch int            `json:"export_batch"`
	GeluModules int            `json:"gelu_modules"`
	Params      int            `json:"params"`
	Ops         map[string]int `json:"ops"`
}

// zooKey names one export: ARCH_sSIZE_oOPSET_MODE.
func zooKey(arch string, size, opset int, mode string) string {
	return fmt.Sprintf("%s_s%d_o%d_%s", arch, size, opset, mode)
}

// zooTol is the accepted logit error relative to the largest |logit| of
// PyTorch's output: 1e-4, float32 on both sides with different summation
// orders and conv+BN folded on qpipe's side.
const zooTol = 1e-4

// zooResult is one export checked against PyTorch.
type zooResult struct {
	key             string
	meta            zooMeta
	err             error
	relErr          float64
	batch           BatchMode
	importT, forwdT time.Duration
	model           *ops.Model
}

// checkZoo imports one cached export, runs PyTorch's inputs (batch 2) and
// measures the logit error relative to the largest |logit|.
func checkZoo(t testing.TB, dir, key string) zooResult {
	r := zooResult{key: key}
	if b, err := os.ReadFile(filepath.Join(dir, key, "error.txt")); err == nil {
		r.err = fmt.Errorf("PyTorch export failed: %s", strings.TrimSpace(string(b)))
		return r
	}
	b, err := os.ReadFile(filepath.Join(dir, key, "meta.json"))
	if err != nil {
		r.err = err
		return r
	}
	if r.err = json.Unmarshal(b, &r.meta); r.err != nil {
		return r
	}
	t0 := time.Now()
	m, mode, err := ImportReport(filepath.Join(dir, key, "model.onnx"), ImportOptions{})
	r.importT, r.batch = time.Since(t0), mode
	if err != nil {
		r.err = err
		return r
	}
	r.model = m
	x := readNpy(t.(*testing.T), filepath.Join(dir, key, "x.npy"))
	want := readNpy(t.(*testing.T), filepath.Join(dir, key, "logits.npy"))
	t0 = time.Now()
	got, err := forwardAtBatch(evalCtx(t), m, x, mode, r.meta.ExportBatch)
	r.forwdT = time.Since(t0)
	if err != nil {
		r.err = err
		return r
	}
	if !ops.SameShape(got.Shape, want.Shape) {
		r.err = fmt.Errorf("logits shape %v, want %v", got.Shape, want.Shape)
		return r
	}
	if spread(want.Data) == 0 {
		r.err = fmt.Errorf("PyTorch's logits are all equal: nothing to compare (re-export with the current scripts/torchvision_zoo.py)")
		return r
	}
	r.relErr = relErr(got.Data, want.Data)
	return r
}

// forwardAtBatch runs x through m; a model imported at its fixed batch
// (BatchFixed) gets x in slices of that batch, the last one padded
// (PadBatch), as a user runs it.
func forwardAtBatch(c *ops.Context, m *ops.Model, x *ops.Tensor, mode BatchMode, batch int) (*ops.Tensor, error) {
	if mode != BatchFixed || batch <= 0 || x.Shape[0] <= batch {
		return m.Forward1(c, x)
	}
	per := ops.Numel(x.Shape[1:])
	var out []float32
	var shape []int
	for i := 0; i < x.Shape[0]; i += batch {
		n := min(batch, x.Shape[0]-i)
		part, err := PadBatch(ops.MustFromData(x.Data[i*per:(i+n)*per], append([]int{n}, x.Shape[1:]...)...), batch)
		if err != nil {
			return nil, err
		}
		y, err := m.Forward1(c, part)
		if err != nil {
			return nil, err
		}
		shape = y.Shape
		out = append(out, y.Data[:n*ops.Numel(y.Shape[1:])]...)
	}
	return ops.MustFromData(out, append([]int{x.Shape[0]}, shape[1:]...)...), nil
}

// spread is max(b) - min(b).
func spread(b []float32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range b {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	return hi - lo
}

// relErr is max |a-b| over max |b|.
func relErr(a, b []float32) float64 {
	var top float64
	for _, v := range b {
		top = math.Max(top, math.Abs(float64(v)))
	}
	return maxAbsDiff(a, b) / math.Max(top, 1e-30)
}

// fastZoo is the subset the ordinary test command runs: reduced inputs,
// opset 17 with a dynamic batch, plus two static-batch exports.
var fastZoo = []string{
	zooKey("resnet18", 64, 17, "dyn"), zooKey("mobilenet_v3_small", 64, 17, "dyn"),
	zooKey("squeezenet1_0", 64, 17, "dyn"), zooKey("shufflenet_v2_x0_5", 64, 17, "dyn"),
	zooKey("efficientnet_b0", 64, 17, "dyn"), zooKey("swin_t", 64, 17, "dyn"),
	zooKey("resnet18", 64, 13, "static"), zooKey("mobilenet_v3_small", 64, 13, "static"),
}

// TestTorchvisionZooFast: the fast subset imports and its logits match
// PyTorch's within zooTol relative; static-batch exports come back with a
// symbolic batch.
func TestTorchvisionZooFast(t *testing.T) {
	dir := zooExports(t, fastZoo...)
	for _, key := range fastZoo {
		t.Run(key, func(t *testing.T) {
			r := checkZoo(t, dir, key)
			if r.err != nil {
				t.Fatal(r.err)
			}
			t.Logf("%s: %d nodes, batch %s, rel. logit error %.2g, import %v, forward %v", key, len(r.model.Nodes), r.batch, r.relErr,
				r.importT.Round(time.Millisecond), r.forwdT.Round(time.Millisecond))
			if r.relErr > zooTol {
				t.Errorf("relative logit error %.3g > %g", r.relErr, zooTol)
			}
			wantMode := BatchDynamic
			if r.meta.Mode == "static" {
				wantMode = BatchRebatched
			}
			if r.batch != wantMode {
				t.Errorf("batch handled as %s, want %s", r.batch, wantMode)
			}
		})
	}
}

// fixedBatchOK are the families whose static export import leaves at its
// baked batch (BatchFixed: run in slices of that batch, the last padded),
// and why the batch cannot be made symbolic.
var fixedBatchOK = map[string]string{
	"vit_b_16": "nn.MultiheadAttention reshapes (L, B, E) to (L·B, E) and (L, B·heads, d): at the baked batch 1 the shapes do not say which axis takes the batch",
}

// zooArchs reads the generator's family list (ARCH SIZE per line).
func zooArchs(t *testing.T) [][2]string {
	script := filepath.Join("..", "..", "scripts", "torchvision_zoo.py")
	out, err := exec.Command("/usr/bin/python3", script, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v (%s)", script, err, torchvisionHint)
	}
	var archs [][2]string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			archs = append(archs, [2]string{f[0], f[1]})
		}
	}
	return archs
}

// TestTorchvisionZooLong (QPIPE_LONG=1): every family at opsets 13 and 17
// in the three export modes (QPIPE_ZOO_ARCHS, QPIPE_ZOO_OPSETS and
// QPIPE_ZOO_MODES, comma-separated, narrow it down; QPIPE_ZOO_CACHED_ONLY=1
// checks only what the cache holds); prints the coverage table (markdown) that
// docs/onnx-coverage.md holds and fails on any import error or logit
// error above zooTol.
func TestTorchvisionZooLong(t *testing.T) {
	if os.Getenv("QPIPE_LONG") == "" {
		t.Skip("set QPIPE_LONG=1 to export and check the whole torchvision zoo (slow)")
	}
	modes := []string{"dyn", "static", "nofold"}
	if m := os.Getenv("QPIPE_ZOO_MODES"); m != "" {
		modes = strings.Split(m, ",")
	}
	var keys []string
	for _, a := range zooArchs(t) {
		if f := os.Getenv("QPIPE_ZOO_ARCHS"); f != "" && !strings.Contains(","+f+",", ","+a[0]+",") {
			continue
		}
		for _, opset := range []int{13, 17} {
			if o := os.Getenv("QPIPE_ZOO_OPSETS"); o != "" && !strings.Contains(o, fmt.Sprint(opset)) {
				continue
			}
			for _, mode := range modes {
				var size int
				fmt.Sscan(a[1], &size)
				keys = append(keys, zooKey(a[0], size, opset, mode))
			}
		}
	}
	dir := zooExports(t, keys...)
	rows := map[string]map[string]string{}
	var failures []string
	for _, key := range keys {
		r := checkZoo(t, dir, key)
		cell := ""
		_, statErr := os.Stat(filepath.Join(dir, key, "meta.json"))
		_, failErr := os.Stat(filepath.Join(dir, key, "error.txt"))
		switch {
		case statErr != nil && failErr != nil && os.Getenv("QPIPE_ZOO_CACHED_ONLY") != "":
			cell = "not exported"
		case r.err != nil:
			cell = "✗ " + shortErr(r.err)
			failures = append(failures, key+": "+r.err.Error())
		case r.meta.Mode == "static" && r.batch != BatchRebatched && !(r.batch == BatchFixed && fixedBatchOK[r.meta.Arch] != ""):
			cell = "✗ batch " + r.batch.String()
			failures = append(failures, fmt.Sprintf("%s: batch %s, want it made symbolic", key, r.batch))
		case r.relErr > zooTol:
			cell = fmt.Sprintf("✗ %.1e", r.relErr)
			failures = append(failures, fmt.Sprintf("%s: relative logit error %.3g", key, r.relErr))
		case r.batch == BatchFixed:
			cell = fmt.Sprintf("✓ %.1e (fixed batch)", r.relErr)
		default:
			cell = fmt.Sprintf("✓ %.1e", r.relErr)
		}
		parts := strings.Split(key, "_") // ARCH_sSIZE_oOPSET_MODE; ARCH has underscores
		arch, col := strings.Join(parts[:len(parts)-3], "_"), strings.Join(parts[len(parts)-2:], "_")
		if rows[arch] == nil {
			rows[arch] = map[string]string{}
		}
		rows[arch][col] = cell
		t.Logf("%s: %s (import %v, forward %v)", key, cell, r.importT.Round(time.Millisecond), r.forwdT.Round(time.Millisecond))
		r.model = nil
		runtime.GC()
	}
	t.Log("\n" + zooTable(rows, modes))
	for _, f := range failures {
		t.Error(f)
	}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "node "); i >= 0 {
		s = s[i:]
	}
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}

// zooTable formats architecture × (opset, mode) cells as markdown.
func zooTable(rows map[string]map[string]string, modes []string) string {
	var cols []string
	for _, opset := range []int{13, 17} {
		for _, m := range modes {
			cols = append(cols, fmt.Sprintf("o%d_%s", opset, m))
		}
	}
	var archs []string
	for a := range rows {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	var b strings.Builder
	b.WriteString("| architecture | " + strings.Join(cols, " | ") + " |\n|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, a := range archs {
		b.WriteString("| " + a)
		for _, c := range cols {
			b.WriteString(" | " + rows[a][c])
		}
		b.WriteString(" |\n")
	}
	return b.String()
}
