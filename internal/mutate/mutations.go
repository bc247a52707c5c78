package main

// A mutation is one deliberate bug: edits to one file, and the tests that
// must catch it.
type mutation struct {
	name  string // short id, for -run
	bug   string // what the bug does, for the table
	file  string // relative to the module root
	edits []edit
	pkgs  []string // packages whose tests must fail
	run   string   // go test -run filter
}

// edit replaces old, which must occur exactly once in the file, by new.
type edit struct{ old, new string }

// conformance is the ops/cpu suite: the shared cases at 1, 2 and 8
// workers, repeated, and the same bits across worker counts.
const conformance = "TestConformance|TestSameBitsOnAnyThreadCount"

// anyWorkers adds stdlib/train's trainings at 1, 2 and 8 workers.
const anyWorkers = conformance + "|TestSameWeightsOnAnyWorkerCount"

var mutations = []mutation{
	{
		name: "layernorm-one-partial",
		bug:  "layer-norm dgamma/dbeta keep one run's partial sum, drop the others",
		file: "ops/cpu/norm.go",
		edits: []edit{{
			"\tfor run := range runs {\n\t\tpg, pb := part[run*2*d:][:d], part[run*2*d+d:][:d]",
			"\tfor run := range 1 {\n\t\tpg, pb := part[run*2*d:][:d], part[run*2*d+d:][:d]",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "layernorm-completion-order",
		bug:  "layer-norm dgamma/dbeta partials added under a mutex in the order workers finish (the bug of issue #20)",
		file: "ops/cpu/norm.go",
		edits: []edit{
			{"import (\n\t\"math\"\n", "import (\n\t\"math\"\n\t\"sync\"\n"},
			{
				"\t\t\tfor r := r0; r < r1; r++ {\n\t\t\t\tlnParamGrad16(&x.Data[r*d], &dy.Data[r*d], pg, pb, d, mean.Data[r], rstd.Data[r])\n\t\t\t}\n\t\t}\n\t})\n\tfor run := range runs {",
				"\t\t\tfor r := r0; r < r1; r++ {\n\t\t\t\tlnParamGrad16(&x.Data[r*d], &dy.Data[r*d], pg, pb, d, mean.Data[r], rstd.Data[r])\n\t\t\t}\n\t\t}\n\t\tdone.Lock()\n\t\tdefer done.Unlock()\n\t\tfor run := lo; run < hi; run++ {\n\t\t\torder = append(order, run)\n\t\t}\n\t})\n\tfor _, run := range order {",
			},
			{"\tclear(part)\n", "\tclear(part)\n\tvar done sync.Mutex\n\tvar order []int\n"},
		},
		pkgs: []string{"./ops/cpu", "./stdlib/train"}, run: anyWorkers,
	},
	{
		name: "layernorm-swap-scale",
		bug:  "layer-norm dgamma computed with the row mean and 1/std swapped",
		file: "ops/cpu/norm.go",
		edits: []edit{{
			"lnParamGrad16(&x.Data[r*d], &dy.Data[r*d], pg, pb, d, mean.Data[r], rstd.Data[r])",
			"lnParamGrad16(&x.Data[r*d], &dy.Data[r*d], pg, pb, d, rstd.Data[r], mean.Data[r])",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "layernorm-no-backward",
		bug:  "layer norm records no backward (no gradient reaches x, gamma, beta)",
		file: "ops/norm.go",
		edits: []edit{{
			"\tif c.needsGrad(x, gamma, beta) {\n\t\tc.record(y, func(dy *Tensor) {\n\t\t\terr := c.b.LayerNormBackward(",
			"\tif false && c.needsGrad(x, gamma, beta) {\n\t\tc.record(y, func(dy *Tensor) {\n\t\t\terr := c.b.LayerNormBackward(",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "conv-drop-earlier-tiles",
		bug:  "conv weight gradient overwritten by each tile (beta 0): earlier tiles' sums dropped",
		file: "ops/cpu/conv.go",
		edits: []edit{{
			"\t\t\tbeta := float32(0)\n\t\t\tif sums.any {\n\t\t\t\tbeta = 1\n\t\t\t}\n",
			"\t\t\tbeta := float32(0)\n",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "conv-runs-per-thread",
		bug:  "conv weight/bias gradients cut into one run per worker instead of a fixed count",
		file: "ops/cpu/conv.go",
		edits: []edit{{
			"\truns := min(sumRuns, n)\n\tsums := make([]tileSums, runs)",
			"\truns := min(b.w.n, n)\n\tsums := make([]tileSums, runs)",
		}},
		pkgs: []string{"./ops/cpu", "./stdlib/train"}, run: anyWorkers,
	},
	{
		name: "sum-drop-last-item",
		bug:  "column-split sum reduction skips the last item of each worker's chunk",
		file: "ops/cpu/broadcast.go",
		edits: []edit{{
			"\t\tfor t := lo; t < hi; t++ {\n\t\t\tr, c := t/cols, t%cols",
			"\t\tfor t := lo; t < hi-1; t++ {\n\t\t\tr, c := t/cols, t%cols",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "attention-skip-last-head",
		bug:  "fused qkv attention never runs the last (batch, head) pair",
		file: "ops/cpu/attention.go",
		edits: []edit{{
			"i < pairs; i = int(next.Add(1)) - 1 {",
			"i < pairs-1; i = int(next.Add(1)) - 1 {",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "fakequant-truncate",
		bug:  "fake quantization truncates x/s instead of rounding half to even",
		file: "ops/cpu/quant.go",
		edits: []edit{{
			"return float32(math.RoundToEven(float64(x/s))) + z",
			"return float32(math.Trunc(float64(x/s))) + z",
		}},
		pkgs: []string{"./ops/cpu"}, run: conformance,
	},
	{
		name: "int8-truncate-activations",
		bug:  "integer engine truncates float activations to int8 codes instead of rounding",
		file: "ops/cpu/int8_attention.go",
		edits: []edit{
			{"func quantS8(x []float32, inv float32, q []int8) {\n\tif vec16 && len(x) > 0 {", "func quantS8(x []float32, inv float32, q []int8) {\n\tif false && vec16 && len(x) > 0 {"},
			{"\t\tq[i] = int8(roundClamp(v*inv, -128, 127))", "\t\tq[i] = int8(min(max(v*inv, -128), 127))"},
		},
		pkgs: []string{"./stdlib/compress"}, run: "TestInt8FakeQuantAndIntegerEngineAgree",
	},
	{
		name: "int8-swap-weight-scales",
		bug:  "integer engine applies the per-channel weight scales in reverse channel order",
		file: "ops/int8.go",
		edits: []edit{{
			"\t\t\tacc := a.InScale * sw[j]\n",
			"\t\t\tacc := a.InScale * sw[outC-1-j]\n",
		}},
		pkgs: []string{"./stdlib/compress"}, run: "TestInt8FakeQuantAndIntegerEngineAgree",
	},
	{
		name: "int8-requant-scale-off",
		bug:  "integer engine requantizes with the output scale 1% off",
		file: "ops/int8.go",
		edits: []edit{{
			"\t\t\t\tep.Scale[j] = acc / a.OutScale\n",
			"\t\t\t\tep.Scale[j] = acc / (1.01 * a.OutScale)\n",
		}},
		pkgs: []string{"./stdlib/compress"}, run: "TestInt8FakeQuantAndIntegerEngineAgree",
	},
}
