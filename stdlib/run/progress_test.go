package run

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainProgressAndSummary(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false, 3)
	p.Every = 0
	s := StepReport{Index: 1, Node: "4.1.1", Verb: "train", Line: 4, Branch: "lr=0.1"}
	p.Started(s)
	p.Progress(s, Tick{Done: 1, Total: 10, Unit: "batches", Epoch: 1, Epochs: 2, Loss: 0.5})
	p.Progress(s, Tick{Done: 5, Total: 10, Unit: "batches", Epoch: 1, Epochs: 2, Loss: 0.25})
	p.Progress(s, Tick{Done: 1, Total: 10, Unit: "batches", Epoch: 2, Epochs: 2, Loss: 0.2})
	p.Progress(s, Tick{Done: 4, Total: 10, Unit: "batches", Epoch: 2, Epochs: 2, Loss: 0.1})
	s.Status, s.Seconds, s.Summary = StatusDone, 1.25, "train: ok"
	p.Finished(s)
	p.Close()
	got := b.String()
	// A rate needs two ticks of the same epoch, and covers that epoch only:
	// the first tick of epoch 2 shows none.
	want := "[2/3] 4.1.1 line 4 train (lr=0.1)\n  epoch 1/2 1/10 batches loss 0.5000\n  epoch 1/2 5/10 batches loss 0.2500 ("
	if len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("progress:\n%s\nwant prefix:\n%s", got, want)
	}
	if !bytes.Contains(b.Bytes(), []byte("\n  epoch 2/2 1/10 batches loss 0.2000\n  epoch 2/2 4/10 batches loss 0.1000 (")) {
		t.Errorf("epoch 2's first line has a rate, or its second none:\n%s", got)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte(" batches/s)\n  done in 1.2s: train: ok\n")) {
		t.Errorf("progress ends:\n%s", got)
	}
	b.Reset()
	WriteSummary(&b, &Report{Steps: []StepReport{s, {Index: 2, Verb: "evaluate", Line: 5, Status: StatusFailed,
		Metrics: map[string]float64{"accuracy": 0.98765, "size_bytes": 1234, "loss": 0.1}}}})
	want = "STEP  VERB            LINE  STATUS  SECONDS  METRICS\n" +
		"1     train [lr=0.1]  4     done    1.2      \n" +
		"2     evaluate        5     failed  0.0      accuracy=98.77% loss=0.1 size_bytes=1234\n"
	if b.String() != want {
		t.Errorf("summary:\n%q\nwant:\n%q", b.String(), want)
	}
}

// An evaluate robustness step shows its headline figures in the summary
// (as report.json has them), not the per-corruption detail.
func TestSummaryShowsRobustnessHeadline(t *testing.T) {
	var b bytes.Buffer
	WriteSummary(&b, &Report{Steps: []StepReport{{Index: 0, Verb: "evaluate", Line: 3, Status: StatusDone, Seconds: 2,
		Metrics: map[string]float64{"clean_accuracy": 0.9812, "corruption_accuracy": 0.8105, "fgsm_accuracy": 0.4,
			"robustness_ratio": 0.6255, "corruption_gaussian_noise_s1": 0.9, "fgsm_accuracy_eps0.1": 0.4}}}})
	want := "0     evaluate  3     done    2.0      clean_accuracy=98.12% corruption_accuracy=81.05% fgsm_accuracy=40.00% robustness_ratio=0.6255\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("summary:\n%s\nwant the line:\n%s", b.String(), want)
	}
}
