package slurm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qpipe/qpipe/internal/outfile"
	"github.com/qpipe/qpipe/stdlib/run"
)

// Settings are the executor's options: the `executor "slurm" { ... }`
// block of qpipe.hcl and the --slurm-* flags.
type Settings struct {
	Partition string   `json:"partition,omitempty"`
	Account   string   `json:"account,omitempty"`
	Time      string   `json:"time,omitempty"` // sbatch --time, e.g. "1:00:00"
	GPUs      int      `json:"gpus,omitempty"`
	CPUs      int      `json:"cpus,omitempty"` // per job (--cpus-per-task)
	Mem       string   `json:"mem,omitempty"`  // per job, e.g. "8G"
	ExtraArgs []string `json:"extra_args,omitempty"`
	// PerNode submits every node as a job of its own instead of every
	// branch's chain.
	PerNode bool `json:"per_node,omitempty"`
	// Qpipe is the qpipe binary the jobs run; "" means this one's path
	// (the same path must hold qpipe on every node).
	Qpipe string `json:"qpipe,omitempty"`
	// Poll is how often the submitter asks squeue; 0 means 2 s.
	Poll time.Duration `json:"poll,omitempty"`
}

// Spec is a submitted run, DIR/slurm/run.json: what the jobs need to plan
// the recipe again on the compute nodes, and what `qpipe status` needs to
// follow them.
type Spec struct {
	// Recipe is the recipe's path as given; Text its text when submitted
	// (the jobs plan this text, not the file, which may change).
	Recipe string            `json:"recipe"`
	Text   string            `json:"text"`
	Sets   map[string]string `json:"sets,omitempty"`
	Seed   uint64            `json:"seed"`
	Device string            `json:"device"`
	Model  string            `json:"model,omitempty"`
	Data   *run.DataSpec     `json:"data,omitempty"`
	// Out, Store and Workdir are absolute: the output folder, the step
	// store and the folder relative recipe paths start from.
	Out     string `json:"out"`
	Store   string `json:"store"`
	Workdir string `json:"workdir"`
	// Keys are the chained keys of the nodes, by label: a job refuses to
	// run a node whose key differs on its machine (another qpipe
	// version, changed input files).
	Keys     map[string]string `json:"keys"`
	Settings Settings          `json:"settings"`
	Graph    *Graph            `json:"graph"`
	// IDs are the Slurm job ids of Graph.Jobs; Logs their log files
	// (with %a for an array's element).
	IDs       []string  `json:"ids"`
	Logs      []string  `json:"logs"`
	Submitted time.Time `json:"submitted"`
}

// Folder is the run's Slurm folder inside its output folder.
const Folder = "slurm"

// SpecFile is the path of a run's spec.
func SpecFile(out string) string { return filepath.Join(out, Folder, "run.json") }

// WriteSpec writes s atomically.
func WriteSpec(s *Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := SpecFile(s.Out)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return outfile.Write(path, append(b, '\n'))
}

// ReadSpec reads the spec of the run in out.
func ReadSpec(out string) (*Spec, error) { return ReadSpecFile(SpecFile(out)) }

// ReadSpecFile reads a run.json.
func ReadSpecFile(path string) (*Spec, error) {
	out := filepath.Dir(filepath.Dir(path))
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s has no Slurm run (no %s): was it run with --executor slurm?", out, path)
		}
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &s, nil
}

// unit names job k (element e of an array, -1 otherwise) in file names.
func unit(k, e int) string {
	if e >= 0 {
		return fmt.Sprintf("job%d_%d", k, e)
	}
	return fmt.Sprintf("job%d", k)
}

// PartDir is where job k (element e) keeps its report.json and exit.json.
func PartDir(out string, k, e int) string { return filepath.Join(out, Folder, "parts", unit(k, e)) }

// LogPath is the Slurm log of job k (element e) once submitted.
func (s *Spec) LogPath(k, e int) string {
	if k >= len(s.Logs) {
		return ""
	}
	p := strings.ReplaceAll(s.Logs[k], "%A", s.IDs[k])
	p = strings.ReplaceAll(p, "%j", s.IDs[k])
	return strings.ReplaceAll(p, "%a", strconv.Itoa(e))
}

// Exit is what a job leaves when it ends on its own: exit.json.
type Exit struct {
	OK bool `json:"ok"`
	// Error is the located error of the node that failed
	// ("recipe.qpipe:12:3: train: ...").
	Error string `json:"error,omitempty"`
	Node  string `json:"node,omitempty"`
	// Cause is the failing step's own message, without its location
	// (the submitter prints it at the recipe line, with a caret).
	Cause string `json:"cause,omitempty"`
	Host  string `json:"host,omitempty"`
}

func readExit(dir string) *Exit {
	b, err := os.ReadFile(filepath.Join(dir, "exit.json"))
	if err != nil {
		return nil
	}
	var e Exit
	if json.Unmarshal(b, &e) != nil {
		return nil
	}
	return &e
}

func writeExit(dir string, e *Exit) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return outfile.Write(filepath.Join(dir, "exit.json"), append(b, '\n'))
}
