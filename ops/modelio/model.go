// Package modelio saves and loads qpipe models: parameter values as
// safetensors (the Hugging Face format, written and checked here) and the
// architecture — the ops graph with its node kinds, attributes and
// parameter names, so rewritten models (GELU replaced by ReLU, inserted
// fake-quant nodes) round-trip — as a small JSON file beside it, with the
// zoo name, input shape, class count and free-form metadata.
//
// Save("run/model.safetensors", ...) writes run/model.safetensors and
// run/model.json, each atomically (temporary file, sync, rename). Load
// reads both and checks them against each other: every parameter of the
// graph must be in the weights file with dtype F32 and its shape, with
// nothing extra, and the weights file must be the one saved with the
// architecture (its SHA-256 is recorded). Every failure is an error that
// names the file and the tensor; a corrupt file never panics.
package modelio

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops"
)

// FormatVersion is the version of the architecture JSON written here.
const FormatVersion = 1

// Meta describes where a model came from and what it expects.
type Meta struct {
	Zoo     string            `json:"zoo,omitempty"`     // built-in model name, if any
	Input   [3]int            `json:"input,omitempty"`   // per-sample input (C, H, W)
	Classes int               `json:"classes,omitempty"` // output classes
	Extra   map[string]string `json:"extra,omitempty"`   // free-form (recipe, step, epoch...)
}

// archFile is the JSON written beside the weights.
type archFile struct {
	Format        int             `json:"format"`
	Meta          Meta            `json:"meta"`
	Weights       string          `json:"weights"`        // base name of the safetensors file
	WeightsSHA256 string          `json:"weights_sha256"` // of the whole weights file
	Model         json.RawMessage `json:"model"`          // ops.Model's JSON
}

// ArchPath is the architecture file that goes with a weights path:
// "dir/name.safetensors" → "dir/name.json".
func ArchPath(weights string) string {
	return strings.TrimSuffix(weights, filepath.Ext(weights)) + ".json"
}

// Encode returns the two files Save writes: the weights (safetensors)
// and the architecture JSON that names them as weights.
func Encode(weights string, m *ops.Model, meta Meta) (weightBytes, archBytes []byte, err error) {
	b, err := EncodeSafetensors(ModelTensors(m), map[string]string{"format": "pt", "qpipe_model": m.Name})
	if err != nil {
		return nil, nil, fmt.Errorf("modelio: %s: %w", weights, err)
	}
	graph, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("modelio: encoding the graph of %s: %w", m.Name, err)
	}
	sum := sha256.Sum256(b)
	arch := archFile{Format: FormatVersion, Meta: meta, Weights: filepath.Base(weights), WeightsSHA256: hex.EncodeToString(sum[:]), Model: graph}
	aj, err := json.MarshalIndent(arch, "", " ")
	if err != nil {
		return nil, nil, fmt.Errorf("modelio: %w", err)
	}
	return b, append(aj, '\n'), nil
}

// Save writes m's parameters to weights (conventionally *.safetensors)
// and its architecture and meta to ArchPath(weights).
func Save(weights string, m *ops.Model, meta Meta) error {
	b, aj, err := Encode(weights, m, meta)
	if err != nil {
		return err
	}
	if err := writeAtomic(weights, b); err != nil {
		return err
	}
	return writeAtomic(ArchPath(weights), aj)
}

// ModelTensors lists m's parameters and buffers in Params order (sharing
// their storage).
func ModelTensors(m *ops.Model) []Tensor {
	ps := m.Params()
	out := make([]Tensor, len(ps))
	for i, p := range ps {
		out[i] = Tensor{Name: p.Name, Shape: p.Value.Shape, Data: p.Value.Data}
	}
	return out
}

// Load reads a model saved by Save: the architecture from
// ArchPath(weights), then the weights, checked against it.
func Load(weights string) (*ops.Model, Meta, error) {
	arch, m, err := readArch(ArchPath(weights))
	if err != nil {
		return nil, Meta{}, err
	}
	b, err := bounded.ReadFile(weights)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("modelio: %w", err)
	}
	if sum := sha256.Sum256(b); arch.WeightsSHA256 != "" && hex.EncodeToString(sum[:]) != arch.WeightsSHA256 {
		return nil, Meta{}, fmt.Errorf("modelio: %s does not match its architecture file %s (SHA-256 differs): the two were not saved together, or the weights were modified",
			weights, ArchPath(weights))
	}
	f, err := DecodeSafetensors(b)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("modelio: %s: %w", weights, err)
	}
	f.Path = weights
	if err := Assign(m, f); err != nil {
		return nil, Meta{}, err
	}
	return m, arch.Meta, nil
}

func readArch(path string) (*archFile, *ops.Model, error) {
	b, err := bounded.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("modelio: a .safetensors file holds weights only; qpipe reads the architecture from %s beside it, which is missing (keep the .json that `export checkpoint` wrote next to the weights, or export the model to ONNX)", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("modelio: architecture file: %w", err)
	}
	var arch archFile
	if err := json.Unmarshal(b, &arch); err != nil {
		return nil, nil, fmt.Errorf("modelio: %s: not an architecture file: %v", path, err)
	}
	if arch.Format != FormatVersion {
		return nil, nil, fmt.Errorf("modelio: %s: format version %d, this qpipe reads %d", path, arch.Format, FormatVersion)
	}
	if len(arch.Model) == 0 {
		return nil, nil, fmt.Errorf("modelio: %s: no model graph", path)
	}
	m := &ops.Model{}
	if err := json.Unmarshal(arch.Model, m); err != nil {
		return nil, nil, fmt.Errorf("modelio: %s: bad model graph: %v", path, err)
	}
	return &arch, m, nil
}

// LoadWeights reads a safetensors file into an existing model (a zoo
// model rebuilt by name, a checkpoint of the model being trained).
func LoadWeights(weights string, m *ops.Model) error {
	f, err := ReadSafetensors(weights)
	if err != nil {
		return err
	}
	return Assign(m, f)
}

// Assign copies f's tensors into m's parameters after checking that every
// parameter is present with its shape and that f has no other tensor. On
// error m is unchanged.
func Assign(m *ops.Model, f *File) error {
	var missing, extra []string
	for _, p := range m.Params() {
		t, ok := f.Tensors[p.Name]
		if !ok {
			missing = append(missing, p.Name)
			continue
		}
		if t.U8 != nil {
			return fmt.Errorf("modelio: %s: tensor %q holds packed integer codes (U8), not weights; load the checkpoint (export checkpoint) instead of the packed export", f.Path, p.Name)
		}
		if !ops.SameShape(t.Shape, p.Value.Shape) {
			return fmt.Errorf("modelio: %s: tensor %q has shape %v, model %s expects %v", f.Path, p.Name, t.Shape, m.Name, p.Value.Shape)
		}
	}
	for _, name := range f.Order {
		if m.Param(name) == nil {
			extra = append(extra, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("modelio: %s: missing tensor(s) %s that model %s needs", f.Path, quoteList(missing), m.Name)
	}
	if len(extra) > 0 {
		return fmt.Errorf("modelio: %s: extra tensor(s) %s that model %s does not have", f.Path, quoteList(extra), m.Name)
	}
	for _, p := range m.Params() {
		copy(p.Value.Data, f.Tensors[p.Name].Data)
	}
	m.ApplyMasks() // a pruned model's zeros win over the file's values

	return nil
}

func quoteList(names []string) string {
	const show = 5
	q := make([]string, 0, show)
	for i, n := range names {
		if i == show {
			q = append(q, fmt.Sprintf("and %d more", len(names)-show))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	return strings.Join(q, ", ")
}
