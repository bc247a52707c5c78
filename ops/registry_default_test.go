package ops_test

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
)

func TestOrDefaultKeepsAGivenBackendAndFallsBackToCPU(t *testing.T) {
	be, err := ops.OrDefault(nil)
	if err != nil || be.Name() != "cpu" {
		t.Fatalf("OrDefault(nil) = %v, %v; want the cpu backend", be, err)
	}
	if got, err := ops.OrDefault(be); err != nil || got != be {
		t.Fatalf("OrDefault(b) returned %v, %v; want b itself", got, err)
	}
}
