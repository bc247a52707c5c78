package compress

import (
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
)

func TestReplaceEveryGELUInSwin(t *testing.T) {
	m := swin(t)
	n, err := Replace(m, ops.OpGELU, ops.OpReLU, "*", source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || len(m.FindKind(ops.OpGELU)) != 0 || len(m.FindKind(ops.OpReLU)) != 4 {
		t.Fatalf("replaced %d, kinds now %v; want the 4 MLP GELUs as ReLU", n, m.KindCounts())
	}
	again, err := Replace(m, ops.OpGELU, ops.OpReLU, "", source.Span{})
	if err != nil || again != 0 {
		t.Fatalf("second replace: %d, %v; want 0 and no error", again, err)
	}
}

func TestReplaceScopedToAStage(t *testing.T) {
	m := swin(t)
	span := source.Span{Start: source.Pos{Line: 7}}
	n, err := Replace(m, ops.OpGELU, ops.OpHardswish, "stages.0.*", span)
	if err != nil || n != 2 {
		t.Fatalf("stages.0.*: %d, %v; want 2", n, err)
	}
	for _, a := range m.FindKind(ops.OpHardswish) {
		if !strings.HasPrefix(a.Name, "stages.0.") || a.Span != span {
			t.Errorf("%s rewritten (span %v)", a.Name, a.Span)
		}
	}
	if n, err := Replace(m, ops.OpGELU, ops.OpSiLU, "stages.*.blocks.1.mlp.act", span); err != nil || n != 1 {
		t.Fatalf("exact glob: %d, %v; want 1 (stage 1 block 1)", n, err)
	}
	if got := m.KindCounts(); got[ops.OpGELU] != 1 || got[ops.OpSiLU] != 1 {
		t.Fatalf("kinds %v", got)
	}
}

func TestReplaceErrors(t *testing.T) {
	m := swin(t)
	_, err := Replace(m, ops.OpGELU, ops.OpReLU, "stage.9.*", source.Span{})
	if err == nil || !strings.Contains(err.Error(), `"stage.9.*"`) {
		t.Fatalf("unmatched scope: %v; want an error naming the pattern", err)
	}
	if _, err := Replace(m, ops.OpGELU, ops.OpLinear, "*", source.Span{}); err == nil {
		t.Fatal("replacing with linear: want an error")
	}
	if got := m.KindCounts()[ops.OpGELU]; got != 4 {
		t.Fatalf("a failed replace changed the model: %d GELUs", got)
	}
}

func TestInScopeCoversEnclosedModules(t *testing.T) {
	for _, c := range []struct {
		scope, name string
		want        bool
	}{
		{"stages.0.*", "stages.0.blocks.1.mlp.act", true},
		{"stages.0.*", "stages.1.blocks.0.mlp.act", false},
		{"stages.{0,1}", "stages.1.blocks.0.mlp.act", true},
		{"*", "head", true},
		{"**.mlp.act", "stages.1.blocks.0.mlp.act", true},
		{"**.mlp.fc1", "stages.1.blocks.0.mlp.act", false},
	} {
		if got, err := InScope(c.scope, c.name); err != nil || got != c.want {
			t.Errorf("InScope(%q, %q) = %v, %v; want %v", c.scope, c.name, got, err, c.want)
		}
	}
}

func TestStagesInGraphOrder(t *testing.T) {
	if got := strings.Join(Stages(swin(t)), ","); got != "stages.0,stages.1" {
		t.Fatalf("Stages = %s", got)
	}
}
