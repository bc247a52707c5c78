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
)

// A state is checkpointed as a small JSON value (stateFile) that names
// its models, each stored once by content (<sha256 prefix>.safetensors
// with its .json architecture, written atomically by modelio), so steps
// that do not change the model cost a few hundred bytes. The step store
// keeps stateFiles inside its entries.

type stateFile struct {
	Model     *modelRef               `json:"model,omitempty"`
	Pending   *ModelSpec              `json:"pending,omitempty"`
	Snapshots map[string]snapshotFile `json:"snapshots"`
	Data      *DataSpec               `json:"data,omitempty"`
	Metrics   map[string]float64      `json:"metrics"`
	Reported  map[string]float64      `json:"reported"`
}

type modelRef struct {
	File string       `json:"file"` // relative to the store
	Meta modelio.Meta `json:"meta"`
}

type snapshotFile struct {
	Model    modelRef           `json:"model"`
	Metrics  map[string]float64 `json:"metrics"`
	Reported map[string]float64 `json:"reported"`
}

// encodeState writes st's models under root/sub and returns the state
// file and every file it names (relative to root).
func encodeState(root, sub string, st *State) (stateFile, []string, error) {
	sf := stateFile{Pending: st.Pending, Snapshots: map[string]snapshotFile{}, Metrics: st.Metrics, Reported: st.Reported}
	if st.Data != nil {
		spec := st.Data.Spec
		sf.Data = &spec
	}
	var files []string
	if st.Model != nil {
		ref, err := saveModel(root, sub, st.Model, st.Meta)
		if err != nil {
			return sf, nil, err
		}
		sf.Model = &ref
		files = append(files, ref.File, modelio.ArchPath(ref.File))
	}
	for name, snap := range st.Snapshots {
		ref, err := saveModel(root, sub, snap.Model, snap.Meta)
		if err != nil {
			return sf, nil, err
		}
		sf.Snapshots[name] = snapshotFile{Model: ref, Metrics: snap.Metrics, Reported: snap.Reported}
		files = append(files, ref.File, modelio.ArchPath(ref.File))
	}
	return sf, files, nil
}

// saveModel stores m under its content digest unless it is already there.
func saveModel(root, sub string, m *ops.Model, meta modelio.Meta) (modelRef, error) {
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
	rel := filepath.Join(sub, hex.EncodeToString(h.Sum(nil))[:24]+".safetensors")
	ref := modelRef{File: rel, Meta: meta}
	path := filepath.Join(root, rel)
	_, errW := os.Stat(path)
	_, errA := os.Stat(modelio.ArchPath(path))
	if errW == nil && errA == nil {
		return ref, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ref, err
	}
	return ref, modelio.Save(path, m, meta)
}

// decodeState rebuilds a state, reopening its dataset.
func decodeState(env *Env, root string, sf stateFile) (*State, error) {
	st := NewState()
	st.Pending, st.Metrics, st.Reported = sf.Pending, orEmpty(sf.Metrics), orEmpty(sf.Reported)
	var err error
	if sf.Model != nil {
		if st.Model, st.Meta, err = loadModelRef(root, *sf.Model); err != nil {
			return nil, err
		}
	}
	for name, snap := range sf.Snapshots {
		m, meta, err := loadModelRef(root, snap.Model)
		if err != nil {
			return nil, err
		}
		st.Snapshots[name] = &Snapshot{Model: m, Meta: meta, Metrics: orEmpty(snap.Metrics), Reported: orEmpty(snap.Reported)}
	}
	if sf.Data != nil {
		if st.Data, err = openData(env, *sf.Data); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func loadModelRef(root string, ref modelRef) (*ops.Model, modelio.Meta, error) {
	m, meta, err := modelio.Load(filepath.Join(root, ref.File))
	if err != nil {
		return nil, modelio.Meta{}, fmt.Errorf("stored model: %w", err)
	}
	return m, meta, nil
}

func orEmpty(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}
