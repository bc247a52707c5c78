package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/internal/outfile"
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/modelio"
)

func init() {
	Register("export", Verb{Run: runExport, Prepare: prepareExport})
}

// ExportPath resolves an export path inside the output directory by what
// it points to: it must be relative, must not climb out with "..", and no
// symbolic link in an existing directory on the way may lead out
// (outfile.Confine).
func ExportPath(out, p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("export needs a file name")
	}
	if filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("export path %q is absolute; export paths are relative to the output directory %s", p, out)
	}
	path, err := outfile.Confine(out, p)
	if err != nil {
		return "", fmt.Errorf("export %w", err)
	}
	return path, nil
}

// exportArgs are an export step's file and settings.
type exportArgs struct {
	Path           string  `word:"path"`
	Representation string  `arg:"representation"`
	MaxSize        float64 `arg:"max_size"`
}

func decodeExport(step *check.Step) (exportArgs, error) {
	var a exportArgs
	err := step.Decode(&a)
	return a, err
}

func prepareExport(env *Env, step *check.Step) error {
	a, err := decodeExport(step)
	if err != nil {
		return err
	}
	_, err = ExportPath(env.OutDir, a.Path)
	return err
}

func runExport(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	a, err := decodeExport(step)
	if err != nil {
		return nil, err
	}
	path, err := ExportPath(env.OutDir, a.Path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	// Check again once the directories exist: a link made since the plan
	// was checked must not lead the files out either.
	if err := outfile.Inside(env.OutDir, dir); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	stage, err := os.MkdirTemp(dir, ".qpipe-export-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	defer os.RemoveAll(stage)
	if err := writeFormat(env, st, step, a, filepath.Join(stage, filepath.Base(path))); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	total, err := publish(step, a, stage, dir)
	if err != nil {
		return nil, err
	}
	return &Outcome{Summary: fmt.Sprintf("export %s: wrote %s (%d bytes)", step.Variant, path, total),
		Metrics: map[string]float64{"file_bytes": float64(total)}}, nil
}

// writeFormat writes the step's format to path (a checkpoint writes the
// weights there and the architecture beside them).
func writeFormat(env *Env, st *State, step *check.Step, a exportArgs, path string) error {
	switch step.Variant {
	case "checkpoint":
		return modelio.Save(path, st.Model, st.Meta)
	case "onnx":
		return exportONNX(env, st, path, a.Representation)
	case "safetensors":
		return exportSafetensors(st, path)
	}
	return &NotExecutableError{What: "export " + step.Variant, Span: step.Span}
}

// publish measures the files written to the staging folder, refuses them
// when they exceed max_size, and otherwise renames each into dir (atomic
// per file: a reader sees the old file or the new one).
func publish(step *check.Step, a exportArgs, stage, dir string) (int64, error) {
	entries, err := os.ReadDir(stage)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return 0, err
		}
		total += info.Size()
	}
	if err := checkMaxSize(step, a, total); err != nil {
		return 0, err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return 0, fmt.Errorf("cannot write %s: %w", filepath.Join(dir, e.Name()), err)
		}
	}
	return total, nil
}

// checkMaxSize refuses an export larger than its max_size, before any
// file is written.
func checkMaxSize(step *check.Step, a exportArgs, total int64) error {
	if !step.Explicit["max_size"] {
		return nil
	}
	if limit := int64(a.MaxSize); total > limit {
		return fmt.Errorf("export %s at line %d would write %s (%d bytes), more than max_size %s (%d bytes); nothing was written (compress the model further or raise max_size)",
			step.Variant, step.Line(), bounded.FormatSize(total), total, bounded.FormatSize(limit), limit)
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
