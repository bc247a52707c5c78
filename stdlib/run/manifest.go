package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/qpipe/qpipe/internal/bounded"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/planner"
)

// ManifestFile is the manifest's name in the output directory.
const ManifestFile = "manifest.json"

// Manifest says exactly what a run was: the recipe, the resolved plan,
// the seed, the content of every input, the build, the machine, and what
// each node measured. `qpipe run --manifest` runs it again and compares.
type Manifest struct {
	Recipe       string            `json:"recipe"`
	RecipeSHA256 string            `json:"recipe_sha256"`
	RecipeText   string            `json:"recipe_text"`
	Sets         map[string]string `json:"sets,omitempty"`
	Seed         uint64            `json:"seed"`
	Model        planner.Binding   `json:"model"`
	Data         planner.Binding   `json:"data"`
	// DataSpec is the command line's or project's dataset binding.
	DataSpec *DataSpec       `json:"data_spec,omitempty"`
	Plan     []ManifestNode  `json:"plan"`
	Inputs   []ManifestInput `json:"inputs"`
	Build    BuildInfo       `json:"build"`
}

// ManifestNode is one work node of the plan and what it measured.
type ManifestNode struct {
	Node    string             `json:"node"`
	Verb    string             `json:"verb"`
	Text    string             `json:"text"`
	Line    int                `json:"line"`
	Args    []planner.Arg      `json:"args"`
	Inputs  []string           `json:"inputs"`
	Key     string             `json:"key"`
	Status  string             `json:"status"`
	Metrics map[string]float64 `json:"metrics"`
}

// ManifestInput is the content fingerprint of what a node reads from
// outside the plan (model files, datasets).
type ManifestInput struct {
	Node        string `json:"node"`
	Verb        string `json:"verb"`
	Fingerprint string `json:"fingerprint"`
}

// BuildInfo is the program and machine that ran.
type BuildInfo struct {
	Version string   `json:"qpipe_version"`
	Commit  string   `json:"commit"`
	Go      string   `json:"go"`
	OS      string   `json:"os"`
	Arch    string   `json:"arch"`
	CPU     []string `json:"cpu_features"`
	Backend string   `json:"backend"`
}

// NewManifest describes the run of p in env from the recipe text.
func NewManifest(path string, text []byte, sets map[string]string, env *Env, p *planner.Plan, rep *Report) *Manifest {
	sum := sha256.Sum256(text)
	m := &Manifest{Recipe: path, RecipeSHA256: hex.EncodeToString(sum[:]), RecipeText: string(text), Sets: sets,
		Seed: env.Seed, Model: p.Model, Data: p.Data, DataSpec: env.DataBind, Plan: []ManifestNode{}, Inputs: []ManifestInput{},
		Build: buildInfo(env.Device)}
	results := map[string]StepReport{}
	for _, s := range rep.Steps {
		results[s.Node] = s
	}
	for _, n := range p.Work() {
		mn := ManifestNode{Node: n.Label, Verb: n.Verb, Text: n.Text, Line: n.Line, Args: n.Args, Inputs: []string{}, Key: n.Key}
		for _, in := range n.Inputs {
			mn.Inputs = append(mn.Inputs, p.Nodes[in].Label)
		}
		if r, ok := results[n.Label]; ok {
			mn.Status, mn.Metrics = r.Status, r.Metrics
		}
		m.Plan = append(m.Plan, mn)
		if fp := env.fingerprint(p, n); fp != "" {
			m.Inputs = append(m.Inputs, ManifestInput{Node: n.Label, Verb: n.Verb, Fingerprint: fp})
		}
	}
	return m
}

func buildInfo(device string) BuildInfo {
	b := BuildInfo{Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: cpuFeatures(), Backend: device}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.Version = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				b.Commit = s.Value
			}
		}
	}
	return b
}

// cpuFeatures lists the instruction-set extensions the kernels choose
// between.
func cpuFeatures() []string {
	var out []string
	for name, has := range map[string]bool{"avx2": cpu.X86.HasAVX2, "fma": cpu.X86.HasFMA, "avx512f": cpu.X86.HasAVX512F,
		"avx512bw": cpu.X86.HasAVX512BW, "avx512vnni": cpu.X86.HasAVX512VNNI, "asimd": cpu.ARM64.HasASIMD} {
		if has {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// WriteManifest writes m to dir/manifest.json atomically.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// ReadManifest reads a manifest file.
func ReadManifest(path string) (*Manifest, error) {
	b, err := bounded.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is not a qpipe manifest: %v", path, err)
	}
	if m.RecipeText == "" || len(m.Plan) == 0 {
		return nil, fmt.Errorf("%s is not a qpipe manifest: it has no recipe or plan", path)
	}
	return &m, nil
}

// Differences compares a re-run with the manifest it re-ran: inputs whose
// content changed, nodes whose key changed (so they computed something
// else), and deterministic metrics that differ. Nondeterministic metrics
// (latency, throughput) are not compared.
func (m *Manifest) Differences(again *Manifest) []string {
	var out []string
	old := map[string]ManifestInput{}
	for _, in := range m.Inputs {
		old[in.Node] = in
	}
	for _, in := range again.Inputs {
		if o, ok := old[in.Node]; ok && o.Fingerprint != in.Fingerprint {
			out = append(out, fmt.Sprintf("node %s (%s): its input changed: %s, was %s", in.Node, in.Verb, short(in.Fingerprint), short(o.Fingerprint)))
		}
	}
	nodes := map[string]ManifestNode{}
	for _, n := range m.Plan {
		nodes[n.Node] = n
	}
	for _, n := range again.Plan {
		o, ok := nodes[n.Node]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("node %s (%s) is not in the manifest's plan", n.Node, n.Verb))
		case o.Key != n.Key:
			out = append(out, fmt.Sprintf("node %s (%s, line %d): key %s, the manifest has %s", n.Node, n.Verb, n.Line, n.Key[:12], o.Key[:min(12, len(o.Key))]))
		default:
			out = append(out, metricDifferences(n, o)...)
		}
	}
	return out
}

func metricDifferences(n, o ManifestNode) []string {
	var out []string
	for _, k := range SortedKeys(o.Metrics) {
		if nondeterministicMetric(k) {
			continue
		}
		v, ok := n.Metrics[k]
		if !ok || (v != o.Metrics[k] && !(math.IsNaN(v) && math.IsNaN(o.Metrics[k]))) {
			out = append(out, fmt.Sprintf("node %s (%s, line %d): %s = %s, the manifest has %s", n.Node, n.Verb, n.Line, k,
				check.FormatMetric(k, v), check.FormatMetric(k, o.Metrics[k])))
		}
	}
	return out
}

func short(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 && len(s)-i > 13 {
		return s[:i+13]
	}
	return s
}
