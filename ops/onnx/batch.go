package onnx

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// The batch dimension at import.
//
// torch.onnx.export writes a symbolic batch only when asked (dynamic_axes);
// by default the dummy input's batch, usually 1, is baked into the input
// shape and into every Reshape target that carries it. Import makes such
// a batch symbolic where the graph allows: it converts the graph twice
// at probe batches 2 and 3 as if the batch were symbolic, scaling a
// literal Reshape target's leading dimension by probe/baked and
// broadcasting a constant that a Concat joins to batched tensors along
// another axis (a class token) with expand_batch; the two conversions
// must then agree up to the reshape dimensions that follow the batch,
// which become -1 (see dynamicBatch). When they do not, the model is
// imported at its baked batch (BatchFixed): it runs at that batch only,
// and callers pad the last, short batch (PadBatch).

// BatchMode says how Import handled the batch dimension.
type BatchMode int

const (
	// BatchDynamic: the file's batch dimension is symbolic and stays so.
	BatchDynamic BatchMode = iota
	// BatchRebatched: the file bakes a batch size in (a static export);
	// import made the batch symbolic, so the model runs at any batch.
	BatchRebatched
	// BatchFixed: the file bakes a batch size in and the graph depends on
	// it in a way import cannot undo; the model runs at that batch only.
	BatchFixed
)

func (b BatchMode) String() string {
	return [...]string{"dynamic", "static, made dynamic at import", "static (fixed batch)"}[b]
}

// probe batch sizes: two small, distinct sizes whose conversions are
// compared to find the reshape dimensions that follow the batch.
const probeA, probeB = 2, 3

// importBatched converts the graph at two probe batches and makes the
// batch dimension symbolic; a static graph that resists is imported at
// its own batch.
func importBatched(be ops.Backend, mp *onnxpb.ModelProto, dir, name string, shapes [][]int, dynBatch bool, fixed bool) (*ops.Model, BatchMode, error) {
	inits := initCache{}
	if !dynBatch && (fixed || !batched(shapes)) {
		m, err := importPass(be, mp, dir, name, shapes, 0, false, false, inits)
		return m, BatchFixed, err
	}
	first, err := importPass(be, mp, dir, name, shapes, probeA, dynBatch, !dynBatch, inits)
	if err == nil {
		var second *ops.Model
		if second, err = importPass(be, mp, dir, name, shapes, probeB, dynBatch, !dynBatch, inits); err == nil {
			err = dynamicBatch(first, second, probeA, probeB)
		}
	}
	switch {
	case err == nil && dynBatch:
		return first, BatchDynamic, nil
	case err == nil:
		return first, BatchRebatched, nil
	case dynBatch:
		return nil, 0, err
	}
	m, ferr := importPass(be, mp, dir, name, shapes, 0, false, false, inits)
	if ferr != nil {
		return nil, 0, ferr
	}
	return m, BatchFixed, nil
}

// batched reports whether every input has a leading (batch) dimension.
func batched(shapes [][]int) bool {
	for _, s := range shapes {
		if len(s) < 2 || s[0] <= 0 {
			return false
		}
	}
	return true
}

// rebatchTarget scales the leading dimension of a literal Reshape target
// from the graph's baked batch to the probe batch, when the target, as
// written, keeps the baked batch there: with a -1, when the input carries
// the probe batch in front ((1, -1) → (b, -1)); without, when the sizes
// differ by exactly the batch factor ((nW, 49, C) → (b·nW, 49, C),
// (1, 3, 3, 7, 7, C) from (b·9, 49, C) → (b, 3, 3, 7, 7, C)).
func (im *importer) rebatchTarget(in []int, target []int) []int {
	if im.baked <= 0 || im.batchOf == im.baked || len(in) == 0 || len(target) == 0 {
		return target
	}
	t0 := target[0]
	if t0 <= 0 || t0%im.baked != 0 {
		return target
	}
	infer := false
	for _, d := range target {
		infer = infer || d == -1
	}
	switch {
	case infer && in[0] != im.batchOf: // -1 would absorb the batch: only with the batch in front
		return target
	case !infer && ops.Numel(target)*im.batchOf != ops.Numel(in)*im.baked:
		// the sizes differ by other than the batch factor (or not at all):
		// the windows of swin's (B·nW, N, C) → (B, H/w, W/w, w, w, C) differ by it
		return target
	}
	out := append([]int{}, target...)
	out[0] = t0 / im.baked * im.batchOf
	return out
}

// batchConstant broadcasts a constant with leading dimension 1 (or the
// baked batch) that is joined to batched tensors, such as a class token
// concatenated to the patch tokens, to the batch of ref with expand_batch.
func (im *importer) batchConstant(n *onnxpb.NodeProto, k *konst, ref *value) (*value, error) {
	v, err := im.dyn(&value{k: &konst{shape: append([]int{1}, k.shape[1:]...), data: k.data[:ops.Numel(k.shape[1:])]}}, n.GetName())
	if err != nil {
		return nil, err
	}
	return im.emit(n, ops.OpExpandBatch, ops.Attrs{}, nil, v, ref)
}

// broadcastsBatch reports whether constant k stands for a batch-sized
// tensor that the graph built for its baked (or probe) batch: its leading
// dimension is 1 or the baked batch, ref's is the probe batch, and its
// rows are all equal.
func (im *importer) broadcastsBatch(k *konst, ref *value) bool {
	rs := ref.shape()
	if len(k.shape) != len(rs) || len(rs) == 0 || rs[0] != im.batchOf || (k.shape[0] == rs[0] && !k.perBatch) {
		return false
	}
	if k.shape[0] != 1 && !k.perBatch && (im.baked <= 0 || k.shape[0] != im.baked) {
		return false
	}
	row := ops.Numel(k.shape[1:])
	for i := row; i < len(k.data); i++ {
		if k.data[i] != k.data[i%row] {
			return false
		}
	}
	return true
}

// PadBatch pads x (batch first) with zero rows to batch rows, for a model
// imported with BatchFixed; the caller drops the extra output rows.
func PadBatch(x *ops.Tensor, batch int) (*ops.Tensor, error) {
	if len(x.Shape) == 0 || x.Shape[0] > batch {
		return nil, fmt.Errorf("onnx: a batch of %v does not fit the model's fixed batch %d: split it", x.Shape, batch)
	}
	if x.Shape[0] == batch {
		return x, nil
	}
	out := ops.New(append([]int{batch}, x.Shape[1:]...)...)
	copy(out.Data, x.Data)
	return out, nil
}

// batchConstants replaces the constants among a Concat's inputs that
// stand for batch-sized tensors (broadcastsBatch) by expand_batch nodes.
func (im *importer) batchConstants(n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	var ref *value
	for _, v := range in {
		if v.k == nil {
			ref = v
			break
		}
	}
	out := append([]*value{}, in...)
	for i, v := range in {
		if v.k == nil || !im.broadcastsBatch(v.k, ref) {
			continue
		}
		e, err := im.batchConstant(n, v.k, ref)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
