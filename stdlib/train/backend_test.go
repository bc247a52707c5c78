package train

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu" // the backend the tests run on
)

func cpuBackend(t *testing.T) ops.Backend {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return be
}
