package cpu

import (
	"testing"

	"github.com/qpipe/qpipe/ops/opstest"
)

func TestConformance(t *testing.T) { opstest.Run(t, New(Options{})) }

func TestConformanceOneThread(t *testing.T) { opstest.Run(t, New(Options{Threads: 1})) }
