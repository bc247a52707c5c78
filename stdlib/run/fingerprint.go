package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/planner"
)

// CodeVersion is the step store's format and the version of the code
// every verb shares (the engine, the state); bump it when a change makes
// stored results wrong. A verb's own Verb.Version covers its file.
const CodeVersion = "1"

// VerbVersion is the version of the code that implements a verb, mixed
// into its nodes' keys.
func VerbVersion(verb string) string {
	v, _ := lookup(verb)
	return CodeVersion + "/" + v.Version
}

// fingerprint is the content of what a node reads from outside the plan:
// the model file a model line or --model names, the dataset a data line
// or --data opens (its settings, and its files when it is a folder or a
// file). Files are hashed whole; a dataset folder by each file's path,
// size and modification time. Built-in datasets are named, not hashed:
// their downloads are fixed.
func (e *Env) fingerprint(p *planner.Plan, n *planner.Node) string {
	switch n.Verb {
	case "model":
		name, isPath := p.Model.Name, looksLikePath(p.Model.Name)
		if n.Step != nil {
			name, isPath = modelSource(e, n.Step)
		}
		if !isPath {
			return "zoo:" + name
		}
		return "file:" + name + ":" + pathSum(e.InputPath(name))
	case "data":
		spec := DataSpec{Name: p.Data.Name}
		if e.DataBind != nil {
			spec = *e.DataBind
		}
		if n.Step != nil {
			var err error
			if spec, err = dataSpec(e, n.Step); err != nil {
				return "error:" + err.Error()
			}
		}
		b, _ := json.Marshal(spec)
		if spec.Path == "" {
			return string(b)
		}
		return string(b) + ":" + pathSum(spec.Path)
	}
	return ""
}

// pathSum fingerprints a file (with a safetensors model's architecture
// file) or a folder; a missing path gives its error, so the key still
// differs from the one of the file that was there.
func pathSum(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	if fi.IsDir() {
		return dirSum(path)
	}
	sum, err := fileSum(path)
	if err != nil {
		return "unreadable"
	}
	if strings.EqualFold(filepath.Ext(path), ".safetensors") {
		arch, _ := fileSum(modelio.ArchPath(path))
		sum += "+" + arch
	}
	return sum
}

func dirSum(dir string) string {
	h := sha256.New()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}
