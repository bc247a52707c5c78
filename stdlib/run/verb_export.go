package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/modelio"
)

func init() {
	Register("export", Verb{Run: runExport, Prepare: prepareExport})
}

// ExportPath resolves an export path inside the output directory: it must
// be relative and must not climb out of it with "..".
func ExportPath(out, p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("export needs a file name")
	}
	if filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("export path %q is absolute; export paths are relative to the output directory %s", p, out)
	}
	clean := filepath.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("export path %q is outside the output directory %s; write a path inside it", p, out)
	}
	return filepath.Join(out, clean), nil
}

func prepareExport(env *Env, step *check.Step) error {
	_, err := ExportPath(env.OutDir, step.Words["path"].Str)
	return err
}

func runExport(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	path, err := ExportPath(env.OutDir, step.Words["path"].Str)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	switch step.Variant {
	case "checkpoint":
		err = modelio.Save(path, st.Model, st.Meta)
	case "onnx":
		err = exportONNX(env, st, path)
	case "safetensors":
		err = modelio.WriteSafetensors(path, modelio.ModelTensors(st.Model), map[string]string{"format": "pt", "qpipe_model": st.Model.Name})
	default:
		return nil, &NotExecutableError{What: "export " + step.Variant, Span: step.Span}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &Outcome{Summary: fmt.Sprintf("export %s: wrote %s (%d bytes)", step.Variant, path, info.Size()),
		Metrics: map[string]float64{"file_bytes": float64(info.Size())}}, nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
