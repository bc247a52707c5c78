package stdlib

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

// The order rules, with their exact spans, summaries and details.
func TestOrderRulesExact(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"replace after quantize points at both",
			"model swin-micro\ndata mnist\nquantize int8\nreplace gelu with relu",
			"4:1-4:23 error: replace after quantize [quantized at line 3; replace activations first, then quantize (calibration depends on them)]\n" +
				"3:1-3:14 note: the model is quantized here"},
		{"distill with no model",
			"data mnist\ndistill",
			"2:1-2:8 error: distill needs a model, and none is loaded [add `model NAME` (or `model \"file.onnx\"`) above this line, or pass --model]"},
		{"distill from an untrained original",
			"model cnn\ndata mnist\ntrain\ndistill",
			"4:1-4:8 error: distill has no teacher: the original model is untrained [the model was trained from scratch at line 3 and nothing compressed it since; compress it first (replace, prune, quantize: distill then learns from the model before that step), or name it with `snapshot teacher` after training and write distill from=teacher]"},
		{"distill after a compression step learns from the baseline",
			"model swin-micro\ndata fashion-mnist\ntrain epochs=1\nreplace gelu with relu\ndistill iterations=3\nquantize log2 bits=3", ""},
		{"from=baseline names the model before the first compression step",
			"model cnn\ndata mnist\ntrain\nreplace relu with gelu\nreplace gelu with silu\ndistill from=baseline", ""},
		{"baseline is not defined before any compression step",
			"model cnn\ndata mnist\ntrain\ndistill from=baseline",
			"4:14-4:22 error: unknown snapshot \"baseline\" [known snapshots: original]"},
		{"quantize log2 twice",
			"model cnn\ndata mnist\nquantize log2 bits=3\nquantize log2 bits=3",
			"4:1-4:21 error: the model is already quantized (quantize log2 at line 3) [a low-bit quantizer cannot re-quantize fake-quantized weights; quantize once, from the float model (a `for` loop over quantizers branches from it)]"},
		{"log2 ratio=1",
			"model cnn\ndata mnist\nquantize log2 bits=3 ratio=1",
			"3:28-3:29 error: ratio=1 would prune every weight [ratio is the fraction of weights to prune: write a value below 1, e.g. ratio=0.5]"},
		{"expect on a metric never evaluated",
			"model cnn\ndata mnist\nexpect accuracy > 0.9",
			"3:8-3:16 error: accuracy is never evaluated before this expect [add `evaluate accuracy` above this line]"},
		{"log2 to onnx",
			"model cnn\ndata mnist\nquantize log2 bits=3\nexport onnx \"m.onnx\"",
			"4:1-4:21 warning: ONNX cannot hold log2 (power-of-two) weights: they will be exported as dequantized float [quantized with log2 at line 3; write representation=dequantized to accept float weights, or representation=qdq for int8 QDQ (exact for bits <= 4)]"},
		{"log2 then int8 exports as QDQ without a warning",
			"model cnn\ndata mnist\nfor q in [log2] { quantize q bits=3 }\nquantize int8\nexport onnx \"m.onnx\"", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ds := check.CheckSource("r.qpipe", []byte(c.src), Env(), check.Options{})
			var lines []string
			for _, d := range ds {
				s := d.Span
				line := fmt.Sprintf("%d:%d-%d:%d %s: %s", s.Start.Line, s.Start.Column, s.End.Line, s.End.Column, d.Severity, d.Summary)
				if d.Detail != "" {
					line += " [" + d.Detail + "]"
				}
				lines = append(lines, line)
			}
			if got := strings.Join(lines, "\n"); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
