package data

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/corrupt/*.u8 from the current corruptions")

// TestCorruptionsMatchGoldenImages pins every corruption at severities 1,
// 3 and 5 on one 1×28×28 and one 3×32×32 image to images stored as 8-bit
// levels (testdata/corrupt/NAME_CxHxW_sS.u8): a change to a corruption's
// formula, parameters or random stream moves pixels by more than the one
// level of rounding the comparison allows. Regenerate deliberately with
// go test ./ops/data -run Golden -update-golden.
func TestCorruptionsMatchGoldenImages(t *testing.T) {
	for _, shape := range [][3]int{{1, 28, 28}, {3, 32, 32}} {
		ds := natural(1, shape[0], shape[1], shape[2])
		for _, name := range CorruptionNames() {
			for _, sev := range []int{1, 3, 5} {
				out, err := Corrupt(ds, name, sev, 7)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(out.X))
				for i, v := range out.X {
					got[i] = byte(v*255 + 0.5)
				}
				path := filepath.Join("testdata", "corrupt", fmt.Sprintf("%s_%dx%dx%d_s%d.u8", name, shape[0], shape[1], shape[2], sev))
				if *updateGolden {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update-golden to create the golden images)", err)
				}
				compareLevels(t, path, got, want)
			}
		}
	}
}

func compareLevels(t *testing.T, path string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d pixels, golden has %d", path, len(got), len(want))
	}
	for i := range got {
		if d := int(got[i]) - int(want[i]); d > 1 || d < -1 {
			t.Fatalf("%s: pixel %d is level %d, golden %d", path, i, got[i], want[i])
		}
	}
}
