package compress

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
)

func TestPackCodesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, bits := range []int{2, 3, 4, 5, 8} {
		for _, n := range []int{1, 7, 8, 9, 1001} {
			codes := make([]uint32, n)
			for i := range codes {
				codes[i] = uint32(r.IntN(1 << bits))
			}
			p := PackCodes(codes, bits)
			if len(p) != (n*bits+7)/8 {
				t.Fatalf("%d codes of %d bits in %d bytes", n, bits, len(p))
			}
			back, err := UnpackCodes(p, bits, n)
			if err != nil || !slices.Equal(back, codes) {
				t.Fatalf("bits %d n %d: round trip %v", bits, n, err)
			}
		}
	}
	// The layout: the first code in the low bits.
	if p := PackCodes([]uint32{5, 3, 7}, 3); !slices.Equal(p, []byte{(5 | 3<<3 | 7<<6) & 0xff, 7 >> 2}) {
		t.Fatalf("layout %08b", p)
	}
}

// The packed safetensors export of log2 and uniform models: codes at Bits
// bits, decoding to exactly the fake-quant forward's weights; no latent
// weights, masks or alphas.
func TestPackedSafetensorsDecodeToTheQuantizedWeights(t *testing.T) {
	for _, o := range []LowBitOptions{{Method: MethodLog2, Bits: 3, Ratio: 0.5, RatioSet: true}, {Method: MethodMinMax, Bits: 4}} {
		t.Run(o.Method, func(t *testing.T) {
			m, ds := trained(t, ops.OpReLU)
			o.Data, o.Batch, o.Batches = ds, 32, 2
			lowbit(t, m, o)
			tensors, meta, err := PackedTensors(m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := modelio.WriteSafetensors(path, tensors, meta); err != nil {
				t.Fatal(err)
			}
			f, err := modelio.ReadSafetensors(path)
			if err != nil {
				t.Fatal(err)
			}
			var cm map[string]CodesMeta
			if err := json.Unmarshal([]byte(f.Metadata["qpipe_codes"]), &cm); err != nil || len(cm) != 3 {
				t.Fatalf("metadata %v: %v", f.Metadata, err)
			}
			c := cm["stages.1.fc1.weight"]
			codes := f.Tensors["stages.1.fc1.weight.codes"]
			if c.Bits != o.Bits || len(codes.U8) != 32*8*64*o.Bits/8 {
				t.Fatalf("fc1: %+v, %d code bytes", c, len(codes.U8))
			}
			got, err := DecodeWeights(codes.U8, f.Tensors["stages.1.fc1.weight.scale"].Data, c)
			if err != nil {
				t.Fatal(err)
			}
			if want := forwardWeight(t, m, "stages.1.fc1"); !slices.Equal(got, want.Data) {
				t.Fatal("decoded fc1 weights differ from the fake-quant forward's")
			}
			for name := range f.Tensors {
				if name == "stages.1.fc1.weight" || filepath.Ext(name) == ".mask" || filepath.Ext(name) == ".alpha" {
					t.Fatalf("%s written", name)
				}
			}
		})
	}
}
