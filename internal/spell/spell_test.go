package spell

import (
	"reflect"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"gelu", "gelu", 0}, {"gleu", "gelu", 1}, {"gel", "gelu", 1}, {"relu", "gelu", 1}, {"", "abc", 3}, {"mnist", "fashion-mnist", 8}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSuggestOrdersByDistanceAndKeepsPrefixes(t *testing.T) {
	got := Suggest("gleu", []string{"relu", "gelu", "silu", "gelu_tanh"})
	if want := []string{"gelu"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Suggest(gleu) = %v, want %v", got, want)
	}
	got = Suggest("swin", []string{"mlp", "swin-micro", "cnn"})
	if want := []string{"swin-micro"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Suggest(swin) = %v, want %v", got, want)
	}
	if got := Nearest("xyz", []string{"mlp", "cnn"}); got != "" {
		t.Errorf("Nearest(xyz) = %q, want none", got)
	}
}
