package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"

	"github.com/qpipe/qpipe/internal/bounded"

	"github.com/qpipe/qpipe/internal/outfile"
)

// Checkpoints live in OUT/checkpoints: one state file per finished step
// (step-0003.json) and the models they reference, stored once by content
// (models/<sha256 prefix>.safetensors with its .json architecture, written
// by modelio), so steps that do not change the model cost a small JSON
// file. Every file is written atomically (temporary file, rename), and a
// state file is written only after the models it names, so a crash never
// leaves a checkpoint pointing at a missing or partial model.

// CheckpointDir is the checkpoint folder inside the output directory.
const CheckpointDir = "checkpoints"

type stateFile struct {
	Index     int                     `json:"index"`
	Hash      string                  `json:"hash"`
	Model     *modelRef               `json:"model,omitempty"`
	Pending   *ModelSpec              `json:"pending,omitempty"`
	Snapshots map[string]snapshotFile `json:"snapshots"`
	Data      *DataSpec               `json:"data,omitempty"`
	Metrics   map[string]float64      `json:"metrics"`
	Reported  map[string]float64      `json:"reported"`
}

type modelRef struct {
	File string       `json:"file"` // relative to the checkpoint folder
	Meta modelio.Meta `json:"meta"`
}

type snapshotFile struct {
	Model    modelRef           `json:"model"`
	Metrics  map[string]float64 `json:"metrics"`
	Reported map[string]float64 `json:"reported"`
}

// checkpointName is the state file of step index i, relative to the
// output directory.
func checkpointName(i int) string {
	return filepath.Join(CheckpointDir, fmt.Sprintf("step-%04d.json", i))
}

// saveCheckpoint writes st as the state after step p.
func saveCheckpoint(out string, p planned, st *State) (string, error) {
	dir := filepath.Join(out, CheckpointDir)
	// checkpoints/ (or checkpoints/models/) made a link out of --out would
	// write outside it: refuse, as exports do.
	if err := outfile.Inside(out, filepath.Join(dir, "models")); err != nil {
		return "", err
	}
	sf := stateFile{Index: p.Index, Hash: p.Hash, Pending: st.Pending, Snapshots: map[string]snapshotFile{},
		Metrics: st.Metrics, Reported: st.Reported}
	if st.Data != nil {
		spec := st.Data.Spec
		sf.Data = &spec
	}
	if st.Model != nil {
		ref, err := saveModel(dir, st.Model, st.Meta)
		if err != nil {
			return "", err
		}
		sf.Model = &ref
	}
	for name, snap := range st.Snapshots {
		ref, err := saveModel(dir, snap.Model, snap.Meta)
		if err != nil {
			return "", err
		}
		sf.Snapshots[name] = snapshotFile{Model: ref, Metrics: snap.Metrics, Reported: snap.Reported}
	}
	b, err := json.MarshalIndent(sf, "", " ")
	if err != nil {
		return "", err
	}
	name := checkpointName(p.Index)
	return name, writeAtomic(filepath.Join(out, name), append(b, '\n'))
}

// saveModel stores m under its content digest unless it is already there.
func saveModel(dir string, m *ops.Model, meta modelio.Meta) (modelRef, error) {
	weights, err := modelio.EncodeSafetensors(modelio.ModelTensors(m), nil)
	if err != nil {
		return modelRef{}, err
	}
	graph, err := json.Marshal(m)
	if err != nil {
		return modelRef{}, err
	}
	h := sha256.New()
	h.Write(weights)
	h.Write(graph)
	rel := filepath.Join("models", hex.EncodeToString(h.Sum(nil))[:24]+".safetensors")
	ref := modelRef{File: rel, Meta: meta}
	path := filepath.Join(dir, rel)
	if _, err := os.Stat(modelio.ArchPath(path)); err == nil {
		return ref, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ref, err
	}
	return ref, modelio.Save(path, m, meta)
}

// loadCheckpoint reads the state after step i, reopening its dataset.
func loadCheckpoint(env *Env, out string, i int) (*State, string, error) {
	path := filepath.Join(out, checkpointName(i))
	b, err := bounded.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot resume: %v", err)
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, "", fmt.Errorf("cannot resume: %s: %v", path, err)
	}
	st := NewState()
	st.Pending, st.Metrics, st.Reported = sf.Pending, orEmpty(sf.Metrics), orEmpty(sf.Reported)
	dir := filepath.Join(out, CheckpointDir)
	if sf.Model != nil {
		if st.Model, st.Meta, err = loadModelRef(dir, *sf.Model); err != nil {
			return nil, "", err
		}
	}
	for name, snap := range sf.Snapshots {
		m, meta, err := loadModelRef(dir, snap.Model)
		if err != nil {
			return nil, "", err
		}
		st.Snapshots[name] = &Snapshot{Model: m, Meta: meta, Metrics: orEmpty(snap.Metrics), Reported: orEmpty(snap.Reported)}
	}
	if sf.Data != nil {
		if st.Data, err = openData(env, *sf.Data); err != nil {
			return nil, "", err
		}
	}
	return st, sf.Hash, nil
}

func loadModelRef(dir string, ref modelRef) (*ops.Model, modelio.Meta, error) {
	m, meta, err := modelio.Load(filepath.Join(dir, ref.File))
	if err != nil {
		return nil, modelio.Meta{}, fmt.Errorf("cannot resume: checkpoint model: %w", err)
	}
	return m, meta, nil
}

func orEmpty(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}
