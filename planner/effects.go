package planner

import (
	"slices"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// Effects is what one step does to the pipeline state and what it costs
// before the model is known.
type Effects struct {
	// Reads and Writes name resources: "model", "snapshot:NAME",
	// "data:NAME", "metric:NAME", "file:PATH".
	Reads  []string
	Writes []string
	// TrainEpochs counts forward+backward passes over the training set.
	TrainEpochs float64
	// TrainForwardPasses counts forward-only passes over the training set
	// (a teacher's logits, calibration).
	TrainForwardPasses float64
	// EvalPasses counts forward-only passes over evaluation sets.
	EvalPasses float64
	// Bits is the weight precision after the step; 0 leaves it unchanged.
	Bits int
	// Teacher is true when the step runs a second model beside the
	// current one (distillation).
	Teacher bool
}

// ResModel is the current model, the resource most steps read and write.
const ResModel = "model"

func snapshotRes(name string) string { return "snapshot:" + name }
func dataRes(name string) string     { return "data:" + name }
func metricRes(name string) string   { return "metric:" + name }
func fileRes(path string) string     { return "file:" + path }

// metricsWithoutData are metrics measured without a pass over a dataset.
var metricsWithoutData = []string{"size", "params", "latency", "throughput", "sparsity"}

// datasetArgs are argument names whose value names a second dataset a
// step reads (evaluate robustness shift=digits).
var datasetArgs = []string{"shift", "target"}

// genericEffects derives a step's effects from its signature's Effects
// (needs and changes the model or data, trains, writes a file), the
// metrics the checker says it records, its slot and argument types
// (TSnapshot reads a snapshot, TName defines one), and argument-name
// conventions of the standard library: `epochs` × `iterations` count the
// training passes, `mode=ptq` means no training, `calibrate` means one
// calibration pass, `bits` (or the int8 variant) sets the precision.
func genericEffects(step *check.Step, st *state) Effects {
	var e Effects
	if step.Sig == nil {
		return e
	}
	fx := step.Effects()
	modelEffects(step, st, fx, &e)
	dataEffects(step, st, fx, &e)
	for _, m := range step.Metrics {
		e.Writes = append(e.Writes, metricRes(m))
	}
	if fx.Writes {
		if p := pathWord(step, st); p != "" {
			e.Writes = append(e.Writes, fileRes(p))
		}
	}
	e.Reads = appendNew(e.Reads, snapshotReads(step, st)...)
	e.Writes = appendNew(e.Writes, snapshotWrites(step, st)...)
	passes(step, st, fx, &e)
	return e
}

func modelEffects(step *check.Step, st *state, fx check.Effects, e *Effects) {
	if fx.LoadsModel {
		e.Writes = append(e.Writes, ResModel, snapshotRes("original"))
		return
	}
	if fx.NeedsModel || fx.ChangesModel {
		e.Reads = append(e.Reads, ResModel)
	}
	if fx.ChangesModel {
		e.Writes = append(e.Writes, ResModel)
	}
}

func dataEffects(step *check.Step, st *state, fx check.Effects, e *Effects) {
	if fx.LoadsData {
		e.Writes = append(e.Writes, dataRes(st.dataName(step)))
		return
	}
	if (fx.NeedsData || measuresData(step, fx)) && st.data != "" {
		e.Reads = append(e.Reads, st.data)
	}
	// A derived training set (adcorda's corrected D') is the dataset's
	// name with a prime.
	if fx.ChangesData && st.data != "" {
		e.Writes = append(e.Writes, st.data+"'")
	}
	for _, name := range datasetArgs {
		if v, ok := step.Args[name]; ok && step.Explicit[name] {
			e.Reads = append(e.Reads, dataRes(plainName(st.vars.resolve(v))))
		}
	}
}

// passes counts the passes over data the arguments make knowable.
func passes(step *check.Step, st *state, fx check.Effects, e *Effects) {
	epochs := trainingEpochs(step, st, fx)
	e.TrainEpochs = epochs
	_, calibrates := step.Args["calibrate"]
	if epochs == 0 && calibrates {
		e.TrainForwardPasses = 1
	}
	if epochs > 0 && hasPrefix(e.Reads, "snapshot:") {
		e.Teacher = true
		e.TrainForwardPasses += epochs
	}
	if measuresData(step, fx) {
		e.EvalPasses = 1
	}
	for _, name := range datasetArgs {
		if step.Explicit[name] {
			e.EvalPasses++
		}
	}
	e.Bits = weightBits(step, st)
}

// trainingEpochs is epochs × iterations, or 0 when the step does not
// train. A step trains when its signature says so or its `mode` is qat;
// `mode=ptq` overrides the signature.
func trainingEpochs(step *check.Step, st *state, fx check.Effects) float64 {
	trains := fx.Trains
	if mode, ok := step.Args["mode"]; ok {
		trains = plainName(st.vars.resolve(mode)) == "qat"
	}
	if !trains {
		return 0
	}
	epochs := 1.0
	if v, ok := step.Args["epochs"]; ok {
		epochs = st.vars.resolve(v).Number()
	}
	if v, ok := step.Args["iterations"]; ok {
		epochs *= st.vars.resolve(v).Number()
	}
	return epochs
}

func weightBits(step *check.Step, st *state) int {
	if step.Sig == nil || !step.Effects().ChangesModel {
		return 0
	}
	if v, ok := step.Args["bits"]; ok {
		return int(st.vars.resolve(v).Number())
	}
	if step.Variant == "int8" {
		return 8
	}
	return 0
}

// measuresData reports whether a step only measures the model and some
// metric it records needs a pass over the test set (accuracy does, size
// and latency do not). Training steps record their metrics as they train.
func measuresData(step *check.Step, fx check.Effects) bool {
	return !fx.ChangesModel && !fx.Trains && len(step.Metrics) > 0 && !allWithoutData(step.Metrics)
}

func allWithoutData(metrics []string) bool {
	for _, m := range metrics {
		if !slices.Contains(metricsWithoutData, m) {
			return false
		}
	}
	return true
}

// pathWord is the first path or string word of a step (export's file).
func pathWord(step *check.Step, st *state) string {
	for _, p := range slots(step) {
		if v, ok := step.Words[p.Name]; ok && (p.Type == check.TPath || p.Type == check.TString) {
			return plainName(st.vars.resolve(v))
		}
	}
	return ""
}

// wordNames lists the identifier words of a command, as resolved names.
func wordNames(step *check.Step, st *state) []string {
	var out []string
	for _, p := range slots(step) {
		v, ok := step.Words[p.Name]
		if !ok || p.Type == check.TKeyword {
			continue
		}
		if v.Kind == check.VList && p.Repeated {
			for _, x := range v.List {
				out = append(out, plainName(st.vars.resolve(x)))
			}
			continue
		}
		out = append(out, plainName(st.vars.resolve(v)))
	}
	return out
}

// snapshotReads are the snapshots a step names as inputs: its slots and
// arguments typed TSnapshot.
func snapshotReads(step *check.Step, st *state) []string {
	var out []string
	add := func(p check.Param, v check.Value) {
		if name := plainName(st.vars.resolve(v)); p.Type == check.TSnapshot && st.hasSnapshot(name) {
			out = appendNew(out, snapshotRes(name))
		}
	}
	for _, p := range slots(step) {
		if v, ok := step.Words[p.Name]; ok {
			add(p, v)
		}
	}
	for _, p := range params(step) {
		if v, ok := step.Args[p.Name]; ok {
			add(p, v)
		}
	}
	return out
}

// snapshotWrites are the snapshots a step defines through a TName slot.
func snapshotWrites(step *check.Step, st *state) []string {
	var out []string
	for _, p := range slots(step) {
		if v, ok := step.Words[p.Name]; ok && p.Type == check.TName {
			out = append(out, snapshotRes(plainName(st.vars.resolve(v))))
		}
	}
	return out
}

// slots are the word slots of the step's signature and variant.
func slots(step *check.Step) []check.Param {
	if step.Sig == nil {
		return nil
	}
	return step.Sig.SlotsOf(step.Variant)
}

// params are the arguments of the step's signature and variant, in order.
func params(step *check.Step) []check.Param {
	if step.Sig == nil {
		return nil
	}
	return step.Sig.ParamsOf(step.Variant)
}

func appendNew(list []string, items ...string) []string {
	for _, x := range items {
		if !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

func hasPrefix(list []string, prefix string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

// resourceLabel renders a resource for people: "snapshot teacher".
func resourceLabel(r string) string { return strings.Replace(r, ":", " ", 1) }
