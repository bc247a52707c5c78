package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Signals: the first SIGINT (Ctrl-C) or SIGTERM (what schedulers, systemd
// and timeout send) cancels the run's context, so the step running stops
// at its next safe point, is reported as interrupted, and report.json and
// the last checkpoint stay on disk; qpipe then exits 128+signal (130 for
// SIGINT, 143 for SIGTERM). A second signal exits at once with the same
// code: report.json already holds every step that finished.

// signalCause is the cause of a context cancelled by a signal.
type signalCause struct{ sig syscall.Signal }

func (c signalCause) Error() string { return "received " + signalName(c.sig) }

func signalName(s syscall.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// exitCode is 128+signal, as shells report a process a signal ended.
func (c signalCause) exitCode() int { return 128 + int(c.sig) }

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM (with a signalCause), and a stop function that restores the
// default handling. exit is os.Exit outside tests.
func interruptContext(parent context.Context, stderr io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			c := signalCause{sig: s.(syscall.Signal)}
			fmt.Fprintf(stderr, "\nqpipe: %s: stopping at the end of the current step's batch; send it again to exit now\n", signalName(c.sig))
			cancel(c)
		case <-done:
			return
		}
		select {
		case s := <-ch:
			c := signalCause{sig: s.(syscall.Signal)}
			fmt.Fprintf(stderr, "\nqpipe: second %s: exiting now; report.json holds the steps finished so far\n", signalName(c.sig))
			exit(c.exitCode())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interruptedExit is the exit code of a run whose context was cancelled:
// 128+signal, or 130 when the cause is not a signal.
func interruptedExit(ctx context.Context) int {
	var c signalCause
	if errors.As(context.Cause(ctx), &c) {
		return c.exitCode()
	}
	return exitInterrupted
}
