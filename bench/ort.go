package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func init() {
	Register("infer-ort", "qpipe vs ONNX Runtime (scripts/ort) at the same threads: zoo cnn and resnet20, torchvision resnet18 and mobilenet_v2 at 224x224, fp32 and INT8 (QDQ), median ms per batch and qpipe's speed relative to ORT", benchInferORT)
}

// ortModel is one model of the infer-ort benchmark: how to build its
// float form and its input shape.
type ortModel struct {
	name  string
	shape zoo.Shape
	build func(dir string) (*ops.Model, error)
}

// ortModels are the zoo models (random weights: latency does not depend
// on them) and the torchvision CNNs, exported by scripts/torchvision_zoo.py
// and imported (skipped with a reason when Python or the import fails).
func ortModels() []ortModel {
	zooModel := func(name string, s zoo.Shape) ortModel {
		return ortModel{name, s, func(string) (*ops.Model, error) { return zoo.Build(name, s, 10, 1) }}
	}
	tv := func(arch string) ortModel {
		return ortModel{arch, zoo.Shape{C: 3, H: 224, W: 224}, func(dir string) (*ops.Model, error) { return torchvisionModel(dir, arch) }}
	}
	return []ortModel{zooModel("cnn", mnistShape), zooModel("resnet20", zoo.Shape{C: 3, H: 32, W: 32}), tv("resnet18"), tv("mobilenet_v2")}
}

// ortRow is one (model, precision, batch) measurement.
type ortRow struct {
	qpipe, ort float64 // median ms per batch
}

// benchInferORT exports each model to ONNX (fp32, and its int8 fake-quant
// form as QDQ), then per batch size times qpipe's forward (the integer
// engine for int8) and ONNX Runtime's session.run on the same input at the
// same number of threads, alternating all four so load drift hits them
// alike, and adds qpipe's INT8 speed-up over its FP32 (MODEL/int8-vs-fp32).
// QPIPE_ORT_MODELS (comma-separated) picks models; QPIPE_ORT_DIR keeps the
// exports (default a temporary directory).
func benchInferORT(opts Options, emit func(Result)) error {
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	defer withThreads(Options{Threads: threads})()
	if opts.Seconds <= 0 {
		opts.Seconds = 2
	}
	sizes := opts.Sizes
	if len(sizes) == 0 {
		sizes = []int{1, 64}
	}
	if err := checkORTModels(os.Getenv("QPIPE_ORT_MODELS")); err != nil {
		return err
	}
	runJS, err := ortScript()
	if err != nil {
		return err
	}
	dir := os.Getenv("QPIPE_ORT_DIR")
	if dir == "" {
		if dir, err = os.MkdirTemp("", "qpipe-infer-ort-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("QPIPE_ORT_DIR: %w", err)
	}
	be := cpu.New(cpu.Options{Threads: threads})
	for _, mdl := range ortModels() {
		if !wanted(mdl.name) {
			continue
		}
		err := benchORTModel(mdl, be, runJS, dir, threads, sizes, opts.Seconds, emit)
		if err != nil {
			emit(Result{Case: mdl.name + "/skipped", Unit: "-", Extra: map[string]any{"reason": strings.ReplaceAll(err.Error(), " ", "_")}})
		}
	}
	return nil
}

// checkORTModels refuses a QPIPE_ORT_MODELS entry that names no model, so
// a typo is an error instead of an empty table.
func checkORTModels(sel string) error {
	var known []string
	for _, m := range ortModels() {
		known = append(known, m.name)
	}
	for _, name := range strings.Split(sel, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(known, name) {
			return fmt.Errorf("QPIPE_ORT_MODELS: no model %q; the models are %s", name, strings.Join(known, ", "))
		}
	}
	return nil
}

func wanted(name string) bool {
	sel := os.Getenv("QPIPE_ORT_MODELS")
	return sel == "" || strings.Contains(","+sel+",", ","+name+",")
}

// ortScript finds scripts/ort/run.js (from the repository root or below)
// with its onnxruntime-node install.
func ortScript() (string, error) {
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		js := filepath.Join(d, "scripts", "ort", "run.js")
		if _, err := os.Stat(filepath.Join(d, "scripts", "ort", "node_modules", "onnxruntime-node")); err == nil {
			return js, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("infer-ort needs ONNX Runtime: run it from the qpipe repository after `cd scripts/ort && npm ci --ignore-scripts`")
		}
	}
}

// benchORTModel exports one model in both precisions and emits a row per
// precision and batch size.
func benchORTModel(mdl ortModel, be ops.Backend, runJS, dir string, threads int, sizes []int, seconds float64, emit func(Result)) error {
	m, err := mdl.build(dir)
	if err != nil {
		return err
	}
	fq := m.Clone()
	calib := randomDataset(mdl.shape, 8)
	if _, err := compress.QuantizeInt8(context.Background(), fq, compress.Int8Options{Data: calib, Batch: 4, Batches: 2, Backend: be}); err != nil {
		return err
	}
	ir, err := compress.Deploy(fq, source.Span{})
	if err != nil {
		return err
	}
	qdq, _, err := compress.ONNXForm(fq, compress.ReprQDQ)
	if err != nil {
		return err
	}
	in := []int{1, mdl.shape.C, mdl.shape.H, mdl.shape.W}
	files := map[string]string{"fp32": filepath.Join(dir, mdl.name+".onnx"), "int8": filepath.Join(dir, mdl.name+".int8.onnx")}
	for prec, mm := range map[string]*ops.Model{"fp32": m, "int8": qdq} {
		if err := onnx.Export(mm, files[prec], onnx.ExportOptions{InputShape: in, Backend: be}); err != nil {
			return fmt.Errorf("export %s: %w", prec, err)
		}
	}
	for _, n := range sizes {
		rows, err := ortRounds(be, map[string]*ops.Model{"fp32": m, "int8": ir.Model}, files, runJS, dir, mdl.shape, n, threads, seconds)
		if err != nil {
			return fmt.Errorf("b%d: %w", n, err)
		}
		for _, prec := range ortPrecisions {
			r := rows[prec]
			emit(Result{Case: fmt.Sprintf("%s/%s/b%d", mdl.name, prec, n), Value: r.qpipe, Unit: "ms",
				Extra: map[string]any{"qpipe_ms": r.qpipe, "ort_ms": r.ort, "qpipe_vs_ort": ratio2(r.ort, r.qpipe), "batch": n, "threads": threads}})
		}
		emit(Result{Case: fmt.Sprintf("%s/int8-vs-fp32/b%d", mdl.name, n), Value: ratio2(rows["fp32"].qpipe, rows["int8"].qpipe), Unit: "x",
			Extra: map[string]any{"batch": n, "threads": threads}})
	}
	return nil
}

// ortPrecisions are the rows of each model and batch size, in order.
var ortPrecisions = []string{"fp32", "int8"}

func ratio2(a, b float64) float64 { return float64(int64(100*a/b)) / 100 }

// ortRounds times qpipe (models, frozen) and ORT (files) on one random input of
// batch n: three rounds, each timing every precision on qpipe for
// seconds/6 and then on ORT for about as long, so load drift hits all
// four alike; each figure is the median of its round medians.
func ortRounds(be ops.Backend, models map[string]*ops.Model, files map[string]string, runJS, dir string, s zoo.Shape, n, threads int, seconds float64) (map[string]ortRow, error) {
	x := ops.New(n, s.C, s.H, s.W)
	copy(x.Data, randomDataset(s, n).X)
	xfile := filepath.Join(dir, fmt.Sprintf("x%d.f32", n))
	if err := writeF32(xfile, x.Data); err != nil {
		return nil, err
	}
	c := ops.NewContext(be, ops.Options{})
	frozen := map[string]*ops.Frozen{}
	for prec, m := range models { // as evaluate and infer.Model run them
		f, err := ops.Freeze(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prec, err)
		}
		frozen[prec] = f
	}
	fwd := func(m *ops.Frozen) func() error {
		return func() error {
			_, err := m.Forward(c, x)
			c.Reset()
			return err
		}
	}
	for _, prec := range ortPrecisions {
		if err := fwd(frozen[prec])(); err != nil { // warm-up: weight packing, buffers
			return nil, fmt.Errorf("%s: %w", prec, err)
		}
	}
	qs, os_ := map[string][]float64{}, map[string][]float64{}
	per := seconds / 6
	for range 3 {
		for _, prec := range ortPrecisions {
			q, err := medianMS(per, fwd(frozen[prec]))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", prec, err)
			}
			iters := max(1, min(2000, int(per*1000/max(q, 1e-3))))
			o, err := runORT(runJS, files[prec], xfile, n, s, threads, iters, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", prec, err)
			}
			qs[prec], os_[prec] = append(qs[prec], q), append(os_[prec], o)
		}
	}
	rows := map[string]ortRow{}
	for _, prec := range ortPrecisions {
		rows[prec] = ortRow{qpipe: round3(median(qs[prec])), ort: round3(median(os_[prec]))}
	}
	return rows, nil
}

// medianMS runs f for about seconds (at least 3 times unless that takes
// over 3·seconds; at least once) and returns the median time in ms.
func medianMS(seconds float64, f func() error) (float64, error) {
	var ts []float64
	for start := time.Now(); time.Since(start).Seconds() < seconds || (len(ts) < 3 && time.Since(start).Seconds() < 3*seconds); {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ts = append(ts, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	return median(ts), nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// runORT runs scripts/ort/run.js with ORT_THREADS intra-op threads and
// returns its median ms per run.
func runORT(runJS, model, xfile string, n int, s zoo.Shape, threads, iters int, dir string) (float64, error) {
	dims := fmt.Sprintf("%d,%d,%d,%d", n, s.C, s.H, s.W)
	cmd := exec.Command("node", runJS, model, xfile, dims, filepath.Join(dir, "y.f32"), strconv.Itoa(iters))
	cmd.Env = append(os.Environ(), "ORT_THREADS="+strconv.Itoa(threads))
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return 0, fmt.Errorf("onnx runtime: %s", msg)
	}
	var rep struct {
		MS float64 `json:"ms_per_run"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || rep.MS <= 0 {
		return 0, fmt.Errorf("onnx runtime: unexpected output %q", out)
	}
	return rep.MS, nil
}

func writeF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return os.WriteFile(path, b, 0o644)
}

// randomDataset is n uniform [0, 1) images of shape s.
func randomDataset(s zoo.Shape, n int) *data.Dataset {
	r := rand.New(rand.NewPCG(5, 6))
	ds := &data.Dataset{Name: "random", C: s.C, H: s.H, W: s.W, X: make([]float32, n*s.C*s.H*s.W), Y: make([]int, n), Classes: make([]string, 10)}
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	return ds
}

// torchvisionModel exports arch at 224x224 with scripts/torchvision_zoo.py
// (Debian's PyTorch; random weights) into dir and imports it.
func torchvisionModel(dir, arch string) (*ops.Model, error) {
	js, err := ortScript()
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(js)))
	key := arch + "_s224_o17_dyn"
	file := filepath.Join(dir, key, "model.onnx")
	if _, err := os.Stat(file); err != nil {
		cmd := exec.Command("/usr/bin/python3", filepath.Join(root, "scripts", "torchvision_zoo.py"), "--out", dir, key)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("torchvision export (needs python3-torch, python3-torchvision, python3-onnx): %v: %s", err, lastLine(out))
		}
	}
	return onnx.Import(file, onnx.ImportOptions{Name: arch})
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
