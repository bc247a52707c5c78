package eval

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// TestFLOPsMatchAHandCount checks the counter against multiply-adds
// counted by hand from the zoo's layer sizes (two FLOPs each).
func TestFLOPsMatchAHandCount(t *testing.T) {
	mnist := zoo.Shape{C: 1, H: 28, W: 28}
	cases := []struct {
		model string
		in    zoo.Shape
		macs  float64
	}{
		// fc1 784→256, fc2 256→128, fc3 128→10.
		{"mlp", mnist, 784*256 + 256*128 + 128*10},
		// conv1 3×3 1→32 on 28×28, conv2 3×3 32→64 on 14×14 (after a
		// 2×2 pool), fc1 64·7·7→128, fc2 128→10.
		{"cnn", mnist, 32*28*28*1*9 + 64*14*14*32*9 + 64*7*7*128 + 128*10},
		// Same on CIFAR's 3×32×32 with 100 classes.
		{"cnn", zoo.Shape{C: 3, H: 32, W: 32}, 32*32*32*3*9 + 64*16*16*32*9 + 64*8*8*128 + 128*100},
	}
	for _, c := range cases {
		classes := 10
		if c.in.C == 3 {
			classes = 100
		}
		m, err := zoo.Build(c.model, c.in, classes, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FLOPs(nil, m, []int{c.in.C, c.in.H, c.in.W})
		if err != nil {
			t.Fatal(err)
		}
		if got != 2*c.macs {
			t.Errorf("%s on %s: %v FLOPs, hand count %v", c.model, c.in, got, 2*c.macs)
		}
	}
}

// TestAttentionFLOPs: one attention node over N tokens of C channels
// costs 2·N²·C multiply-adds (scores and weighted sum), besides the
// qkv projection (N·C·3C) it reads.
func TestAttentionFLOPs(t *testing.T) {
	const tokens, ch = 5, 8
	b := ops.NewBuilder("attn", 1)
	x := b.Input("x")
	qkv := b.Linear("qkv", x, ch, 3*ch, false)
	y := b.Node(ops.OpAttention, "attn", ops.Attrs{Heads: 2}, nil, qkv)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FLOPs(nil, m, []int{tokens, ch})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.0 * (tokens*ch*3*ch + 2*tokens*tokens*ch); got != want {
		t.Errorf("attention FLOPs = %v, want %v", got, want)
	}
}

func TestFLOPsOfAWrongShapeIsAnError(t *testing.T) {
	m, err := zoo.Build("mlp", zoo.Shape{C: 1, H: 4, W: 4}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FLOPs(nil, m, []int{1, 5, 5}); err == nil {
		t.Error("an mlp for 4x4 images counted 5x5 ones")
	}
}
