package compress

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	cpub "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/stdlib/train"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// ratio → beta through the normal quantile, and the sparsity it achieves
// on normal weights (3-bit levels, alpha 3: the smallest level underflows
// below 0.53·std, so ratio ≥ 0.42 is what prunes).
func TestBetaForRatioPrunesThatFraction(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	w := make([]float32, 200000)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.05)
	}
	sigma := ops.Std(w)
	for _, ratio := range []float64{0.5, 0.6, 0.8} {
		beta, err := BetaForRatio(ratio)
		if err != nil {
			t.Fatal(err)
		}
		// float64 check of the quantile: P(|z| < beta) = ratio.
		if got := math.Erf(beta / math.Sqrt2); math.Abs(got-ratio) > 1e-12 {
			t.Fatalf("ratio %v: beta %v covers %v", ratio, beta, got)
		}
		zeros := 0
		for _, v := range w {
			if q, _ := ops.Log2Level(v, 3*sigma, float32(beta)*sigma, 2); q == 0 {
				zeros++
			}
		}
		if s := float64(zeros) / float64(len(w)); math.Abs(s-ratio) > 0.01 {
			t.Fatalf("ratio %v: sparsity %.4f", ratio, s)
		}
	}
	if b, _ := BetaForRatio(0); b != 0 {
		t.Fatalf("ratio 0: beta %v", b)
	}
	for _, bad := range []float64{1, 1.5, -0.1} {
		if _, err := BetaForRatio(bad); err == nil {
			t.Fatalf("ratio %v accepted", bad)
		}
	}
}

func TestStdObserverEMA(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	o := &StdObserver{Alpha: 2.5, Momentum: 0.8}
	var ref float64
	for b := range 5 {
		x := make([]float32, 500)
		for i := range x {
			x[i] = float32(r.NormFloat64()*float64(b+1) + 3)
		}
		var m, ss float64
		for _, v := range x {
			m += float64(v)
		}
		m /= float64(len(x))
		for _, v := range x {
			ss += (float64(v) - m) * (float64(v) - m)
		}
		std := math.Sqrt(ss / float64(len(x)))
		if b == 0 {
			ref = std
		} else {
			ref = 0.8*ref + 0.2*std
		}
		o.Observe(x)
	}
	if math.Abs(o.Sigma()-ref) > 1e-5*ref || math.Abs(float64(o.Threshold(3))-2.5*ref) > 1e-4*ref {
		t.Fatalf("sigma %v threshold %v; float64 reference %v, %v", o.Sigma(), o.Threshold(3), ref, 2.5*ref)
	}
}

func lowbit(t *testing.T, m *ops.Model, o LowBitOptions) LowBitResult {
	t.Helper()
	res, err := QuantizeLowBit(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// quantized weights of a layer as the model's forward computes them.
func forwardWeight(t *testing.T, m *ops.Model, layer string) *ops.Tensor {
	t.Helper()
	fq := m.NodeByName(layer + ".weight_quant")
	var got *ops.Tensor
	hook := func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) {
		if n == fq {
			got = out.Clone()
		}
	}
	x := ops.New(1, 1, 8, 8)
	if _, err := m.ForwardObserved(ops.NewContext(cpu(t), ops.Options{}), hook, x); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLog2QuantizePrunesAndMasksHold(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	res := lowbit(t, m, LowBitOptions{Method: MethodLog2, Bits: 3, Ratio: 0.5, RatioSet: true, Data: ds, Batch: 32, Batches: 4, Epochs: 1, LR: 1e-3})
	if res.Layers != 3 || len(res.FirstLast) != 2 || res.FirstLast[0] != "stages.0.conv" || res.FirstLast[1] != "head" {
		t.Fatalf("layers %d first/last %v", res.Layers, res.FirstLast)
	}
	if len(m.FindKind(ops.OpLog2Quant)) != 1 || m.NodeByName("stages.1.fc1.weight_quant").Kind != ops.OpLog2Quant {
		t.Fatal("fc1 should be the one log2 layer")
	}
	var fc1 LayerSparsity
	for _, l := range res.PerLayer {
		if l.Layer == "stages.1.fc1" {
			fc1 = l
		}
	}
	if fc1.Weights != 32*8*64 || math.Abs(fc1.Sparsity-0.5) > 0.03 {
		t.Fatalf("fc1 sparsity %+v; want about 0.5", fc1)
	}
	// The forward's zeros are exactly the frozen mask's zeros and the codes'.
	wq := forwardWeight(t, m, "stages.1.fc1")
	mask := m.Param("stages.1.fc1.weight_quant.mask").Value
	zeros := 0
	for i, v := range wq.Data {
		if (v == 0) != (mask.Data[i] == 0) {
			t.Fatalf("weight %d: quantized %v, mask %v", i, v, mask.Data[i])
		}
		if v == 0 {
			zeros++
		}
	}
	if zeros != fc1.Zeros {
		t.Fatalf("forward has %d zeros, sparsity counted %d", zeros, fc1.Zeros)
	}
	// Later training (QAT on the fake-quant model) keeps them zero.
	l, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 4})
	if _, err := train.Fit(context.Background(), m, l, nil, train.Options{Epochs: 1, Optimizer: "adamw", LR: 1e-2}); err != nil {
		t.Fatal(err)
	}
	after := forwardWeight(t, m, "stages.1.fc1")
	for i, v := range after.Data {
		if mask.Data[i] == 0 && v != 0 {
			t.Fatalf("pruned weight %d came back as %v after training", i, v)
		}
	}
}

func TestLowBitUniformCodesAndBadInput(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	res := lowbit(t, m, LowBitOptions{Method: MethodMinMax, Bits: 3, Data: ds, Batch: 32, Batches: 2})
	if res.Layers != 3 || len(m.FindKind(ops.OpFakeQuant)) != 6 {
		t.Fatalf("uniform minmax: %+v", res)
	}
	ip, codes, err := weightCodes(m, Site{m.NodeByName("stages.1.fc1"), RoleWeight})
	if err != nil || ip.QMin != -3 || ip.QMax != 3 {
		t.Fatalf("fc1 codes [%d, %d] %v", ip.QMin, ip.QMax, err)
	}
	wq := forwardWeight(t, m, "stages.1.fc1")
	for i, c := range codes {
		if want := float32(c) * ip.Scale[i/(8*64)]; wq.Data[i] != want {
			t.Fatalf("weight %d: forward %v, code %d·scale = %v", i, wq.Data[i], c, want)
		}
	}
	// The inner layer's input follows a ReLU: unsigned 3-bit codes.
	if fq := m.NodeByName("stages.1.fc1.input_quant"); fq.Attrs.QMin != 0 || fq.Attrs.QMax != 7 {
		t.Fatalf("fc1 input codes [%v, %v]; want [0, 7]", fq.Attrs.QMin, fq.Attrs.QMax)
	}
	if _, err := QuantizeLowBit(context.Background(), m, LowBitOptions{Method: MethodLog2, Bits: 3, Data: ds}); err == nil {
		t.Fatal("quantizing twice was accepted")
	}
	for _, o := range []LowBitOptions{{Method: MethodLog2, Bits: 1}, {Method: MethodLog2, Bits: 3, Ratio: 1, RatioSet: true}, {Method: MethodLSQ, Bits: 3}} {
		o.Data = ds
		if _, err := QuantizeLowBit(context.Background(), tinyCNN(t, ops.OpReLU, 1), o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
	}
}

func TestLowBitIntegerEngineAgreesWithFakeQuant(t *testing.T) {
	for _, o := range []LowBitOptions{
		{Method: MethodLog2, Bits: 3, Ratio: 0.5, RatioSet: true},
		{Method: MethodLog2, Bits: 4, ActivationBits: 4},
		{Method: MethodMinMax, Bits: 3},
	} {
		t.Run(o.Method, func(t *testing.T) {
			m, ds := trained(t, ops.OpReLU)
			o.Data, o.Batch, o.Batches = ds, 32, 4
			lowbit(t, m, o)
			if f, want := FormatOf(m), map[string]Format{MethodLog2: FormatLog2, MethodMinMax: FormatUniform}[o.Method]; f != want {
				t.Fatalf("format %s, want %s", f, want)
			}
			fake := logits(t, m, ds, 512)
			ir, err := Deploy(m, source.Span{})
			if err != nil {
				t.Fatal(err)
			}
			if ir.Converted != 3 || len(ir.Model.FindKind(ops.OpLog2Quant, ops.OpFakeQuant)) != 0 {
				t.Fatalf("converted %d layers", ir.Converted)
			}
			fc1 := ir.Model.NodeByName("stages.1.fc1")
			if fc1.Attrs.QMin != 0 || fc1.Attrs.QMax != float32(int(1)<<max(o.ActivationBits, o.Bits)-1) || fc1.Attrs.Bits != o.Bits {
				t.Fatalf("fc1 attrs %+v", fc1.Attrs)
			}
			integer := logits(t, ir.Model, ds, 512)
			// The shift-add reference engine gives the same bits.
			x, _ := ops.FromData(append([]float32(nil), ds.X[:512*ds.SampleSize()]...), 512, ds.C, ds.H, ds.W)
			ref, err := ir.Model.Forward1(ops.NewContext(cpub.NewShiftAdd(cpub.New(cpub.Options{})), ops.Options{}), x)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ref.Data, integer.Data) {
				t.Fatal("shift-add reference and int8 fast path disagree")
			}
			if top1, rel := agreement(fake, integer); top1 < 0.995 || rel > 0.05 {
				t.Fatalf("integer vs fake-quant: top-1 %.4f, max rel error %.4f", top1, rel)
			}
			// Packed size: fc1's 16384 weights at Bits bits, the 8-bit edges at one byte.
			total, codes := PackedBytes(ir.Model)
			if want := int64(32*8*64*o.Bits/8 + 8*9 + 4*32); codes != want {
				t.Fatalf("packed codes %d bytes; want %d", codes, want)
			}
			if total-codes != 4*int64(8+8+32+32+4+4) {
				t.Fatalf("float part %d bytes", total-codes)
			}
		})
	}
}

// quantize log2 runs on every zoo model and on imported ONNX models: the
// layers convert to the integer engine, attention and norms stay float and
// are listed, and the integer model's outputs are finite and close to the
// fake-quant model's.
func TestLog2OnZooAndImportedModels(t *testing.T) {
	ds := fashionLike(32)
	for _, name := range []string{"cnn", "resnet20", "vit-tiny", "swin-micro", "cnn_opset17.onnx", "swin_opset17.onnx"} {
		t.Run(name, func(t *testing.T) {
			var m *ops.Model
			var err error
			if filepath.Ext(name) == ".onnx" {
				m, err = onnx.Import(filepath.Join("..", "..", "ops", "onnx", "testdata", name), onnx.ImportOptions{})
			} else {
				m, err = zoo.Build(name, zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
			}
			if err != nil {
				t.Fatal(err)
			}
			res := lowbit(t, m, LowBitOptions{Method: MethodLog2, Bits: 3, Data: ds, Batch: 16, Batches: 1})
			transformer := strings.Contains(name, "swin") || strings.Contains(name, "vit")
			if transformer != (len(res.Float) > 0) {
				t.Fatalf("float nodes %v", res.Float)
			}
			if res.Layers < 3 || len(m.FindKind(ops.OpLog2Quant)) != res.Layers-2 {
				t.Fatalf("%d layers, %d log2", res.Layers, len(m.FindKind(ops.OpLog2Quant)))
			}
			ir, err := ToInteger(m, source.Span{})
			if err != nil {
				t.Fatal(err)
			}
			if ir.Converted != res.Layers {
				t.Fatalf("converted %d of %d layers", ir.Converted, res.Layers)
			}
			fake, integer := logits(t, m, ds, 16), logits(t, ir.Model, ds, 16)
			for _, v := range integer.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatal("integer engine output is not finite")
				}
			}
			if _, rel := agreement(fake, integer); rel > 0.25 {
				t.Fatalf("integer vs fake-quant: max relative error %.3f", rel)
			}
		})
	}
}
