package htmlreport

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qpipe/qpipe/lang/check"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib"
	"github.com/qpipe/qpipe/stdlib/run"
)

// sweepRecipe is a small real run (examples/qat_sweep.qpipe): an MLP
// on the digits, a sweep of two QAT learning rates, each branch's
// robustness (noise at two severities, FGSM and PGD at two eps), gates on
// accuracy and size.
const sweepRecipe = "../../../examples/qat_sweep.qpipe"

// chromium finds Debian's chromium (or $QPIPE_CHROMIUM).
func chromium(t *testing.T) string {
	if p := os.Getenv("QPIPE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed, so report.html is not checked in a real browser: apt-get install -y chromium (or set QPIPE_CHROMIUM)")
	return ""
}

// runForPage executes the recipe at path into dir/out with the page written after
// every step, as qpipe run does.
func runForPage(t *testing.T, dir, path string) string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, ds := check.CheckSource(path, text, stdlib.Env(), check.Options{})
	if ds.HasErrors() {
		t.Fatalf("recipe does not check:\n%v", ds)
	}
	plan, err := planner.Build(rec, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	store, err := run.OpenStore(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	var renderErr error
	o := run.Options{Recipe: rec, Path: path, Seed: 1, OutDir: out, Store: store, Render: func(d string, r *run.Report) {
		if err := Write(d, Page{Report: r, Source: text, Plan: plan}); err != nil && renderErr == nil {
			renderErr = err
		}
	}}
	r, err := run.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if renderErr != nil {
		t.Fatal(renderErr)
	}
	return out
}

// plotInfo is what the browser measured of one figure.
type plotInfo struct {
	ID     string  `json:"id"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Paths  int     `json:"paths"`
	Texts  int     `json:"texts"`
	// Labels are the figure's texts: title, ticks, legend.
	Labels []string `json:"labels"`
}

// pageInfo is what the browser measured of the page.
type pageInfo struct {
	Sections  []string   `json:"sections"`
	Plots     []plotInfo `json:"plots"`
	PlanNodes []string   `json:"planNodes"`
	Resources int        `json:"resources"` // elements and style sheets that load something

	Recipe int `json:"recipeSpans"`
}

const measureJS = `(() => ({
  sections: [...document.querySelectorAll('header[id], section[id]')].map(s => s.id),
  plots: [...document.querySelectorAll('figure.plot')].map(f => {
    const s = f.querySelector('svg'); const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.id, width: r.width, height: r.height, paths: s ? s.querySelectorAll('path').length : 0,
      texts: s ? s.querySelectorAll('text').length : 0, labels: s ? [...s.querySelectorAll('text')].map(t => t.textContent) : []};
  }),
  planNodes: [...document.querySelectorAll('svg.plan g.node')].map(g => g.getAttribute('class')),
  resources: [...document.querySelectorAll('[src], [href], [data]')].filter(e => e.tagName !== 'A')
      .map(e => e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('data'))
      .filter(u => !u.startsWith('#') && !u.startsWith('data:')).length +
    [...document.styleSheets].filter(s => s.href || [...s.cssRules].some(r => /url\(|@import/.test(r.cssText))).length,
  recipeSpans: document.querySelectorAll('pre.recipe span.verb').length,
}))()`

func TestReportPageInChromium(t *testing.T) {
	bin := chromium(t)
	if testing.Short() {
		t.Skip("trains a small model; skipped with -short")
	}
	out := runForPage(t, t.TempDir(), sweepRecipe)
	info, shot, problems := openInChromium(t, bin, filepath.Join(out, File))
	if len(problems) > 0 {
		t.Errorf("console errors and exceptions:\n%s", strings.Join(problems, "\n"))
	}
	if want := sections; !slices.Equal(info.Sections, want) {
		t.Errorf("sections %v, want %v", info.Sections, want)
	}
	var ids []string
	for _, p := range info.Plots {
		ids = append(ids, p.ID)
		if p.Width < 100 || p.Height < 100 || p.Paths < 10 || p.Texts < 5 {
			t.Errorf("plot %s is empty or tiny: %+v", p.ID, p)
		}
	}
	checkRobustnessPlots(t, info.Plots)
	sort.Strings(ids)
	want := []string{"layers-6", "layers-11", "robustness-bars", "robustness-eps", "robustness-severity",
		"tradeoff-latency", "tradeoff-size", "training-2", "training-6", "training-11"}
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Errorf("plots %v, want %v", ids, want)
	}
	if len(info.PlanNodes) != 16 || strings.Count(strings.Join(info.PlanNodes, " "), "n-done") != 16 {
		t.Errorf("plan nodes %v, want 16 done", info.PlanNodes)
	}
	if info.Resources != 0 {
		t.Errorf("the page refers to %d outside resources; it must be self-contained", info.Resources)
	}
	if info.Recipe != 8 {
		t.Errorf("%d verbs highlighted in the recipe, want 8 (expect is a keyword)", info.Recipe)
	}
	checkNotBlank(t, shot)
	if dir := os.Getenv("QPIPE_REPORT_SHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "report-sweep.png"), shot, 0o644)
	}
}

// checkRobustnessPlots checks the robustness figures draw both arms of
// the sweep, the bars every measured group and the eps curves both
// attacks: each arm's robustness series reached the page.
func checkRobustnessPlots(t *testing.T, plots []plotInfo) {
	t.Helper()
	want := map[string][]string{
		"robustness-bars":     {"clean", "corruption", "fgsm", "pgd", "lr=1e-05", "lr=0.0001"},
		"robustness-severity": {"severity", "lr=1e-05", "lr=0.0001"},
		"robustness-eps":      {"eps", "lr=1e-05 fgsm", "lr=1e-05 pgd", "lr=0.0001 fgsm", "lr=0.0001 pgd"},
	}
	for _, p := range plots {
		for _, label := range want[p.ID] {
			if !slices.Contains(p.Labels, label) {
				t.Errorf("plot %s has no label %q: %q", p.ID, label, p.Labels)
			}
		}
	}
}

// TestChromiumCheckSeesErrors shows the browser check can fail: a page
// with a console error, a missing image, a throwing script and a fetched
// stylesheet reports all four.
func TestChromiumCheckSeesErrors(t *testing.T) {
	bin := chromium(t)
	page := filepath.Join(t.TempDir(), "broken.html")
	if err := os.WriteFile(filepath.Join(filepath.Dir(page), "ok.css"), []byte("body{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	html := `<!DOCTYPE html><html><head><link rel="stylesheet" href="ok.css"></head><body><section id="steps">x</section><img src="missing.png"><script>console.error("bad"); null.f()</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	info, _, problems := openInChromium(t, bin, page)
	text := strings.Join(problems, "\n")
	if !strings.Contains(text, "bad") || !strings.Contains(text, "exception") || !strings.Contains(text, "missing.png") || info.Resources < 1 {
		t.Errorf("problems seen: %q, resources %d; want the console error, the exception and the failed load", text, info.Resources)
	}
}

// openInChromium loads a page in headless chromium through the DevTools
// protocol (github.com/chromedp/chromedp) and returns its measurements,
// a full-page screenshot and every console message of level warning or
// error, failed load and uncaught exception.
func openInChromium(t *testing.T, bin, page string) (pageInfo, []byte, []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1300, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", bin, err)
	}
	msgs := chromedp.Console(ctx)
	tctx, stop := context.WithTimeout(ctx, 90*time.Second)
	defer stop()
	abs, _ := filepath.Abs(page)
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady("#steps")); err != nil {
		t.Fatalf("chromium opening %s: %v", abs, err)
	}
	info, err := chromedp.Run(tctx, chromedp.Evaluate[pageInfo](measureJS))
	if err != nil {
		t.Fatalf("measuring the page: %v", err)
	}
	shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Messages that arrived by now are queued; drain them without waiting.
	var problems []string
	drain, done := context.WithTimeout(ctx, 500*time.Millisecond)
	defer done()
	go func() { <-drain.Done(); cancel() }()
	for m, err := range msgs {
		if err != nil {
			break
		}
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
			problems = append(problems, m.String()+" "+m.URL)
		}
	}
	return info, shot, problems
}

// checkNotBlank decodes a PNG screenshot and checks that a fair share of
// it is not background and that it has many colours (text, plots).
func checkNotBlank(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	colors, ink := map[uint32]bool{}, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	total := (b.Dx() / 2) * (b.Dy() / 2)
	if b.Dy() < 1500 || len(colors) < 50 || float64(ink)/float64(total) < 0.03 {
		t.Errorf("screenshot %v looks blank: %d colours, %.1f%% ink", b, len(colors), 100*float64(ink)/float64(total))
	}
	_ = image.Point{}
}
