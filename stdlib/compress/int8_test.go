package compress

import (
	"context"
	"math"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
)

func ptq(t *testing.T, m *ops.Model, ds interface{}, o Int8Options) Int8Result {
	t.Helper()
	res, err := QuantizeInt8(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestInt8FakeQuantAndIntegerEngineAgree(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	float := logits(t, m, ds, 256)
	res := ptq(t, m, ds, Int8Options{Data: ds, Batch: 32, Batches: 4, Calibration: Calibration{Method: "percentile", Percentile: 99.99}})
	if res.Layers != 3 || res.Calibrated != 128 {
		t.Fatalf("quantized %d layers from %d images; want 3 from 128", res.Layers, res.Calibrated)
	}
	fake := logits(t, m, ds, 256)
	if top1, rel := agreement(float, fake); top1 < 0.97 || rel > 0.1 {
		t.Fatalf("fake-quant vs float: top-1 agreement %.3f, max rel error %.3f", top1, rel)
	}
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.Converted != 3 || ir.FusedReLU != 2 || ir.Int8Outputs != 1 {
		t.Fatalf("integer engine: %+v; want 3 layers, 2 fused ReLUs, conv→… and fc1→head in int8", ir.Int8Report)
	}
	if n := ir.Model.FindKind(ops.OpFakeQuant, ops.OpReLU, ops.OpLinear, ops.OpConv2d); len(n) != 0 {
		t.Fatalf("integer model still has %s (%s)", n[0].Name, n[0].Kind)
	}
	integer := logits(t, ir.Model, ds, 256)
	if top1, rel := agreement(fake, integer); top1 < 0.99 || rel > 0.02 {
		t.Fatalf("integer vs fake-quant: top-1 agreement %.3f, max rel error %.4f; want ≥ 0.99 and ≤ 0.02", top1, rel)
	}
	if len(m.FindKind(ops.OpFakeQuant)) != 6 {
		t.Fatal("ToInteger changed its input model")
	}
}

func TestInt8WeightScalesArePerChannelMax(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	w := m.Param("stages.1.fc1.weight").Value.Clone()
	ptq(t, m, ds, Int8Options{Data: ds, Batches: 1})
	s := m.Param("stages.1.fc1.weight_quant.scale").Value
	if s.Numel() != 32 {
		t.Fatalf("%d weight scales; want one per output channel (32)", s.Numel())
	}
	for j, want := range channelMaxAbs(w) {
		if got := s.Data[j]; math.Abs(float64(got-want/127)) > 1e-9 {
			t.Fatalf("channel %d scale %g; want max|W_c|/127 = %g", j, got, want/127)
		}
	}
	m2, _ := trained(t, ops.OpReLU)
	ptq(t, m2, ds, Int8Options{Data: ds, Batches: 1, PerTensorWeights: true})
	if s := m2.Param("stages.1.fc1.weight_quant.scale").Value; s.Numel() != 1 || s.Data[0] != maxAbs(w.Data)/127 {
		t.Fatalf("per-tensor scale %v; want [%g]", s.Data, maxAbs(w.Data)/127)
	}
}

func TestInt8GELUPathStaysFloatBetweenGEMMs(t *testing.T) {
	m := swin(t)
	ds := fashionLike(64)
	ptq(t, m, ds, Int8Options{Data: ds, Batch: 16, Batches: 2})
	fake := logits(t, m, ds, 32)
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	// 18 linear layers plus the patch-embedding conv; no ReLU to fuse, and
	// fc1 feeds GELU, so only layers feeding int8 layers directly stay int8.
	if ir.Converted != 19 || ir.FusedReLU != 0 {
		t.Fatalf("GELU swin: %+v", ir.Int8Report)
	}
	if top1, _ := agreement(fake, logits(t, ir.Model, ds, 32)); top1 < 0.99 {
		t.Fatalf("GELU swin integer vs fake-quant top-1 agreement %.3f", top1)
	}

	r := swin(t)
	if _, err := Replace(r, ops.OpGELU, ops.OpReLU, "*", source.Span{}); err != nil {
		t.Fatal(err)
	}
	ptq(t, r, ds, Int8Options{Data: ds, Batch: 16, Batches: 2})
	fake = logits(t, r, ds, 32)
	ir, err = ToInteger(r, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.FusedReLU != 4 {
		t.Fatalf("ReLU swin fused %d ReLUs into fc1 epilogues; want 4", ir.FusedReLU)
	}
	for _, fc1 := range ir.Model.Select("**.mlp.fc1") {
		if !fc1.Attrs.FusedReLU || fc1.Attrs.OutScale == 0 {
			t.Errorf("%s: fused ReLU %v, int8 output scale %g; want the hidden activation to stay int8", fc1.Name, fc1.Attrs.FusedReLU, fc1.Attrs.OutScale)
		}
	}
	if top1, _ := agreement(fake, logits(t, ir.Model, ds, 32)); top1 < 0.99 {
		t.Fatalf("ReLU swin integer vs fake-quant top-1 agreement %.3f", top1)
	}
	if Int8Bytes(ir.Model) >= int64(r.ParamBytes())/3 {
		t.Fatalf("int8 size %d not under a third of float %d", Int8Bytes(ir.Model), r.ParamBytes())
	}
}

func TestInt8QATTrainsThroughRounding(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	before := m.Param("stages.1.fc1.weight").Value.Clone()
	res := ptq(t, m, ds, Int8Options{Data: ds, Batch: 32, Batches: 2, QAT: true, Epochs: 1, LR: 1e-2})
	if len(res.Epochs) != 1 || math.IsNaN(res.Epochs[0].TrainLoss) {
		t.Fatalf("QAT epochs %+v", res.Epochs)
	}
	after := m.Param("stages.1.fc1.weight").Value
	moved := false
	for i := range after.Data {
		moved = moved || after.Data[i] != before.Data[i]
	}
	if !moved {
		t.Fatal("QAT did not update the weights through the fake-quant nodes")
	}
	if got, want := m.Param("stages.1.fc1.weight_quant.scale").Value.Data[0], channelMaxAbs(after)[0]/127; got != want {
		t.Fatalf("weight scale after QAT %g; want it refreshed to %g", got, want)
	}
	if _, err := ToInteger(m, source.Span{}); err != nil {
		t.Fatal(err)
	}
}

func TestInt8Errors(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	if _, err := QuantizeInt8(context.Background(), m, Int8Options{Data: ds, Scope: "nothing.*"}); err == nil {
		t.Fatal("scope matching nothing: want an error")
	}
	if _, err := ToInteger(m, source.Span{}); err == nil {
		t.Fatal("ToInteger of a float model: want an error")
	}
	ptq(t, m, ds, Int8Options{Data: ds, Batches: 1})
	if _, err := QuantizeInt8(context.Background(), m, Int8Options{Data: ds}); err == nil {
		t.Fatal("quantizing twice: want an error")
	}
}
