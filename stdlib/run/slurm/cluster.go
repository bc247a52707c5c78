package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Cluster runs Slurm's client commands (sbatch, squeue, scontrol, sacct,
// scancel, sinfo). Commands is the real one; tests replay recorded
// outputs.
type Cluster interface {
	// Run runs the command and returns its standard output; a failure's
	// error carries its standard error.
	Run(ctx context.Context, name string, args ...string) (string, error)
}

// Commands runs the Slurm commands found on PATH.
type Commands struct{}

// Run implements Cluster.
func (Commands) Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		msg := strings.TrimSpace(errb.String())
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%s is not on PATH: the Slurm executor needs Slurm's client commands (Debian: apt-get install slurm-client)", name)
		}
		if errors.As(err, &ee) && msg != "" {
			return out.String(), fmt.Errorf("%s: %s", name, msg)
		}
		return out.String(), fmt.Errorf("%s: %v", name, err)
	}
	return out.String(), nil
}
