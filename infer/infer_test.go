package infer_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/qpipe/qpipe/infer"
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib"
	"github.com/qpipe/qpipe/stdlib/run"
)

// The quickstart's lines (model cnn, train adamw, evaluate, export
// checkpoint) on a 3000-image MNIST subset with 400 test images, then
// quantize int8 and export that checkpoint too.
const trainRecipe = `model cnn
data npy "digits"
train epochs=1 lr=1e-3 optimizer=adamw
evaluate accuracy
export checkpoint "float.safetensors"
quantize int8 batches=8
evaluate accuracy
export checkpoint "int8.safetensors"
`

const (
	trainImages = 3000
	testImages  = 400
)

// writeNpy writes a C-ordered little-endian .npy file (version 1).
func writeNpy(t *testing.T, path, descr string, shape []int, body []byte) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(body)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSplit writes ds's first n images (uint8) as x_<split>.npy and the
// given labels as y_<split>.npy.
func writeSplit(t *testing.T, dir, split string, ds *data.Dataset, n int, labels []int) {
	t.Helper()
	per := ds.C * ds.H * ds.W
	px := make([]byte, n*per)
	for i := range px {
		px[i] = byte(math.Round(float64(ds.X[i]) * 255))
	}
	writeNpy(t, filepath.Join(dir, "x_"+split+".npy"), "|u1", []int{n, ds.C, ds.H, ds.W}, px)
	lab := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint64(lab[8*i:], uint64(labels[i]))
	}
	writeNpy(t, filepath.Join(dir, "y_"+split+".npy"), "<i8", []int{n}, lab)
}

// runRecipe checks and runs recipe text in dir (out/ receives exports).
func runRecipe(t *testing.T, dir, name, text string) *run.Report {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, ds := check.CheckSource(path, []byte(text), stdlib.Env(), check.Options{})
	if ds.HasErrors() {
		t.Fatalf("%s does not check:\n%v", name, ds)
	}
	store, err := run.OpenStore(filepath.Join(dir, "cache-"+name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.New(run.Options{Recipe: rec, Path: path, Seed: 1, OutDir: filepath.Join(dir, "out-"+name), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rep
}

// shared is the fixture all tests read, trained once.
var shared struct {
	once sync.Once
	dir  string
	rep  *run.Report
	test *data.Dataset
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// fixture trains the checkpoints (once): it returns their folder, the
// run's report and the test split the run evaluated on.
func fixture(t *testing.T) (string, *run.Report, *data.Dataset) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "qpipe-infer-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		shared.rep, shared.test = train(t, dir)
	})
	if shared.test == nil {
		t.Fatal("the fixture failed in an earlier test")
	}
	return shared.dir, shared.rep, shared.test
}

func train(t *testing.T, dir string) (*run.Report, *data.Dataset) {
	mnist, err := data.Open("mnist", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	digits := filepath.Join(dir, "digits")
	if err := os.Mkdir(digits, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSplit(t, digits, "train", mnist.Train, trainImages, mnist.Train.Y)
	writeSplit(t, digits, "test", mnist.Test, testImages, mnist.Test.Y)
	rep := runRecipe(t, dir, "train.qpipe", trainRecipe)
	s, err := data.Open("npy", data.Options{Path: digits})
	if err != nil {
		t.Fatal(err)
	}
	return rep, s.Test
}

func images(ds *data.Dataset) *tensor.Dense {
	return tensor.New(tensor.WithShape(ds.Len(), ds.C, ds.H, ds.W), tensor.WithBacking(append([]float32(nil), ds.X...)))
}

// TestPredictAgreesWithRunEvaluation loads the float and the INT8
// checkpoint, classifies the test images from Go, and checks both against
// `qpipe run`'s evaluation of the same images: the accuracy over the true
// labels is the one the run reported, and a second run that evaluates the
// checkpoint on the images relabelled with Go's predictions scores 100%,
// so every image has the same top-1 class in both.
func TestPredictAgreesWithRunEvaluation(t *testing.T) {
	dir, rep, test := fixture(t)
	for _, c := range []struct {
		file   string
		step   int // the evaluate step that measured it
		format infer.Format
	}{{"float.safetensors", 3, "float32"}, {"int8.safetensors", 6, "int8"}} {
		t.Run(string(c.format), func(t *testing.T) {
			path := filepath.Join(dir, "out-train.qpipe", c.file)
			m, err := infer.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format() != c.format || m.Input() != [3]int{1, 28, 28} || m.Classes() != 10 {
				t.Fatalf("loaded format %s, input %v, classes %d", m.Format(), m.Input(), m.Classes())
			}
			logits, err := m.Predict(images(test))
			if err != nil {
				t.Fatal(err)
			}
			if s := logits.Shape(); len(s) != 2 || s[0] != testImages || s[1] != 10 {
				t.Fatalf("logits shape %v", s)
			}
			pred, err := infer.Top1(logits)
			if err != nil {
				t.Fatal(err)
			}
			correct := 0
			for i, p := range pred {
				if p == test.Y[i] {
					correct++
				}
			}
			acc := float64(correct) / testImages
			want := rep.Steps[c.step].Metrics["accuracy"]
			if rep.Steps[c.step].Verb != "evaluate" || acc != want {
				t.Errorf("Go API accuracy %v (%d/%d), the run's evaluate step %d (%s) reported %v", acc, correct, testImages, c.step, rep.Steps[c.step].Verb, want)
			}
			if acc < 0.6 {
				t.Errorf("accuracy %v: the fixture did not train", acc)
			}

			relabelled := filepath.Join(dir, "pred-"+string(c.format))
			if err := os.Mkdir(relabelled, 0o755); err != nil {
				t.Fatal(err)
			}
			train, err := data.Open("npy", data.Options{Path: filepath.Join(dir, "digits")})
			if err != nil {
				t.Fatal(err)
			}
			writeSplit(t, relabelled, "train", train.Train, 64, train.Train.Y)
			writeSplit(t, relabelled, "test", test, testImages, pred)
			ev := runRecipe(t, dir, "eval-"+string(c.format)+".qpipe",
				fmt.Sprintf("model %q\ndata npy %q\nevaluate accuracy\n", path, relabelled))
			if got := ev.Steps[2].Metrics["accuracy"]; got != 1 {
				t.Errorf("the run's evaluation agrees with Go's top-1 on %.2f%% of the images, want all", got*100)
			}
		})
	}
}

// TestPredictOneImageAndFloat64 checks the other input forms against the
// batch: one (C, H, W) image, and float64 data.
func TestPredictOneImageAndFloat64(t *testing.T) {
	dir, _, test := fixture(t)
	m, err := infer.Load(filepath.Join(dir, "out-train.qpipe", "int8.json"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := m.Predict(images(test))
	if err != nil {
		t.Fatal(err)
	}
	want := batch.Data().([]float32)[:10]
	per := test.C * test.H * test.W
	one, err := m.Predict(tensor.New(tensor.WithShape(test.C, test.H, test.W), tensor.WithBacking(append([]float32(nil), test.X[:per]...))))
	if err != nil {
		t.Fatal(err)
	}
	f64 := make([]float64, per)
	for i := range f64 {
		f64[i] = float64(test.X[i])
	}
	wide, err := m.Predict(tensor.New(tensor.WithShape(1, test.C, test.H, test.W), tensor.WithBacking(f64)))
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*tensor.Dense{one, wide} {
		if s := got.Shape(); len(s) != 2 || s[0] != 1 || s[1] != 10 {
			t.Fatalf("shape %v, want (1, 10)", s)
		}
		for j, v := range got.Data().([]float32) {
			if math.Abs(float64(v-want[j])) > 1e-4*(1+math.Abs(float64(want[j]))) {
				t.Errorf("logit %d: %v alone, %v in the batch", j, v, want[j])
			}
		}
	}
}

// TestBadFilesNameTheFile: every failure to load or predict is an error
// that names the file, never a panic.
func TestBadFilesNameTheFile(t *testing.T) {
	dir, _, _ := fixture(t)
	good := filepath.Join(dir, "out-train.qpipe", "float.safetensors")
	weights, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := os.ReadFile(strings.TrimSuffix(good, ".safetensors") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	put := func(name string, b []byte) string {
		p := filepath.Join(bad, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path, names, says string
	}{
		{"missing", filepath.Join(bad, "nope.safetensors"), "nope.json", "which is missing"},
		{"no architecture file", put("alone.safetensors", weights), "alone.json", "which is missing"},
		{"truncated weights", func() string {
			put("cut.json", arch)
			return put("cut.safetensors", weights[:len(weights)/2])
		}(), "cut.safetensors", "does not match"},
		{"garbage architecture", func() string {
			put("junk.json", []byte("{not json"))
			return put("junk.safetensors", weights)
		}(), "junk.json", "not an architecture file"},
		{"onnx", put("m.onnx", []byte("x")), "m.onnx", "ONNX"},
	}
	for _, c := range cases {
		_, err := infer.Load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.names) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v; want one naming %s and saying %q", c.name, err, c.names, c.says)
		}
	}

	m, err := infer.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*tensor.Dense{
		"wrong image size": tensor.New(tensor.WithShape(2, 1, 27, 28), tensor.WithBacking(make([]float32, 2*27*28))),
		"wrong rank":       tensor.New(tensor.WithShape(28, 28), tensor.WithBacking(make([]float32, 28*28))),
		"integers":         tensor.New(tensor.WithShape(1, 1, 28, 28), tensor.WithBacking(make([]int, 28*28))),
		"empty batch":      tensor.New(tensor.WithShape(0, 1, 28, 28), tensor.WithBacking([]float32{})),
		"nil":              nil,
	} {
		if _, err := m.Predict(x); err == nil || !strings.Contains(err.Error(), "float.safetensors") {
			t.Errorf("%s: error %v, want one naming the model file", name, err)
		}
	}
}

// TestNoCgo: the package and everything it imports build without cgo.
func TestNoCgo(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.CgoFiles}}", "github.com/qpipe/qpipe/infer").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n++
		if !strings.HasSuffix(line, " []") && !strings.HasPrefix(line, "runtime/cgo ") {
			t.Errorf("uses cgo: %s", line)
		}
	}
	if n < 10 {
		t.Errorf("go list listed %d packages", n)
	}
}

// TestExampleProgram runs examples/go-predict on the INT8 checkpoint: it
// reports the checkpoint's format and the accuracy the API gives on the
// same MNIST test images.
func TestExampleProgram(t *testing.T) {
	dir, _, test := fixture(t)
	path := filepath.Join(dir, "out-train.qpipe", "int8.safetensors")
	const n = 100
	m, err := infer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	per := test.C * test.H * test.W
	pred, err := m.Classify(tensor.New(tensor.WithShape(n, test.C, test.H, test.W), tensor.WithBacking(append([]float32(nil), test.X[:n*per]...))))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range pred {
		if p == test.Y[i] {
			correct++
		}
	}
	out, err := exec.Command("go", "run", "../examples/go-predict", "-n", fmt.Sprint(n), "-runs", "3", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go-predict: %v\n%s", err, out)
	}
	for _, want := range []string{
		fmt.Sprintf("loaded %s: int8, input [1 28 28], 10 classes\n", path),
		fmt.Sprintf("accuracy %.2f%% on %d mnist test images", 100*float64(correct)/n, n),
		"latency b1: median ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go-predict printed\n%s\nwant it to contain %q", out, want)
		}
	}
}

// countingBackend is the CPU backend counting its GEMM calls.
type countingBackend struct {
	ops.Backend
	gemms int
}

func (b *countingBackend) Gemm(p ops.GemmParams, a, bm, c *ops.Tensor) error {
	b.gemms++
	return b.Backend.Gemm(p, a, bm, c)
}

// TestLoadOnRunsOnTheGivenBackend: a float32 checkpoint loaded with LoadOn
// predicts through the backend it was given, with Load's logits.
func TestLoadOnRunsOnTheGivenBackend(t *testing.T) {
	dir, _, test := fixture(t)
	path := filepath.Join(dir, "out-train.qpipe", "float.json")
	ref, err := infer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cpuBe, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	cb := &countingBackend{Backend: cpuBe}
	m, err := infer.LoadOn(path, cb)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Predict(images(test))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(images(test))
	if err != nil {
		t.Fatal(err)
	}
	if cb.gemms == 0 {
		t.Fatal("LoadOn's model ran no GEMM on the given backend")
	}
	w, g := want.Data().([]float32), got.Data().([]float32)
	for i := range w {
		if w[i] != g[i] {
			t.Fatalf("logit %d: %v on the given backend, %v on Load's", i, g[i], w[i])
		}
	}
}
