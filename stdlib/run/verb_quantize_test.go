package run

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// TestQuantizeKeepsFakeQuantCurrent: after quantize int8 the current
// model is the fake-quant graph, so export onnx writes QDQ (int8 weight
// initializers, QuantizeLinear/DequantizeLinear pairs) and a checkpoint
// holds it; evaluate measures the integer engine (its accuracy matches the
// fake-quant accuracy quantize reports) and its size counts one byte per
// int8 weight plus four per float value.
func TestQuantizeKeepsFakeQuantCurrent(t *testing.T) {
	dir := t.TempDir()
	rep, err := runRecipe(t, context.Background(), dir, `data digits subset=300
model cnn
train epochs=1 lr=0.01
evaluate accuracy size
quantize int8 batches=2
evaluate accuracy size
export onnx "q.onnx"
export checkpoint "q.ckpt"
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	float, q, integer := rep.Steps[3].Metrics, rep.Steps[4].Metrics, rep.Steps[5].Metrics
	if d := integer["accuracy"] - q["fake_quant_accuracy"]; d > 0.01 || d < -0.01 {
		t.Errorf("evaluate accuracy %.4f after quantize; the fake-quant model scored %.4f", integer["accuracy"], q["fake_quant_accuracy"])
	}
	if integer["size_bytes"] != q["int8_size_bytes"] || integer["size_bytes"] >= float["size_bytes"]/3 {
		t.Errorf("int8 size %v (quantize said %v); float size %v", integer["size_bytes"], q["int8_size_bytes"], float["size_bytes"])
	}
	if w, f := integer["size_int8_weight_bytes"], integer["size_float_bytes"]; w <= 0 || w+f != integer["size_bytes"] {
		t.Errorf("size parts: %v int8 weight bytes + %v float bytes != %v", w, f, integer["size_bytes"])
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", "q.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range mp.GetGraph().GetNode() {
		ops[n.GetOpType()]++
	}
	int8Inits := 0
	for _, in := range mp.GetGraph().GetInitializer() {
		if in.GetDataType() == int32(onnxpb.TensorProto_INT8) {
			int8Inits++
		}
	}
	if ops["QuantizeLinear"] == 0 || ops["DequantizeLinear"] == 0 || int8Inits == 0 {
		t.Errorf("exported ONNX has %d QuantizeLinear, %d DequantizeLinear, %d int8 initializers; want a QDQ model", ops["QuantizeLinear"], ops["DequantizeLinear"], int8Inits)
	}
}
