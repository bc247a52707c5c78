package repl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// HistoryEnv names the environment variable that overrides where the
// history file lives (tests point it into a temporary directory).
const HistoryEnv = "QPIPE_HISTORY"

// HistoryPath is where the REPL keeps its history: $QPIPE_HISTORY, else
// $XDG_STATE_HOME/qpipe/repl_history, else the user config directory's
// qpipe/repl_history; "" when none is known.
func HistoryPath() string {
	if p := os.Getenv(HistoryEnv); p != "" {
		return p
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "qpipe", "repl_history")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "qpipe", "repl_history")
	}
	return ""
}

// Terminal is the interactive side of a session.
type Terminal struct {
	In  io.ReadCloser
	Out io.Writer
	// Interactive turns on line editing, prompts, history and completion;
	// set it when In and Out are a terminal. Otherwise lines are read
	// plainly, as from a script.
	Interactive bool
	// History is the history file ("" keeps none).
	History string

	// pending holds the lines of an input whose brackets are still open.
	pending strings.Builder
}

const (
	prompt     = "qpipe> "
	contPrompt = "  ...> "
)

// Run reads inputs until :quit or end of input and evaluates them.
func (t *Terminal) Run(ctx context.Context, s *Session) error {
	if !t.Interactive {
		return t.runPlain(ctx, s)
	}
	if t.History != "" {
		if err := os.MkdirAll(filepath.Dir(t.History), 0o755); err != nil {
			return err
		}
	}
	cfg := &readline.Config{
		Prompt:                 s.paint("1;36", prompt),
		HistoryFile:            t.History,
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		AutoComplete:           completer{s: s, pending: &t.pending},
		InterruptPrompt:        "^C",
		Stdin:                  t.In,
		Stdout:                 t.Out,
		Stderr:                 t.Out,
	}
	t.bindTerminal(cfg)
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return err
	}
	defer rl.Close()
	// Statements print straight to the terminal: readline's own writer
	// redraws the prompt after each write, so results showed up after a
	// fresh "qpipe> " instead of before it.
	s.SetOutput(t.Out)
	s.say("qpipe repl — statements are checked as you type them; :help lists commands, :quit leaves")
	return t.loop(ctx, s, rl)
}

// bindTerminal makes readline switch raw mode and measure the width on
// the terminal the session reads, not on the process's standard input.
func (t *Terminal) bindTerminal(cfg *readline.Config) {
	f, ok := t.In.(*os.File)
	if !ok {
		return
	}
	fd := int(f.Fd())
	var saved *readline.State
	cfg.FuncIsTerminal = func() bool { return readline.IsTerminal(fd) }
	cfg.FuncMakeRaw = func() error {
		st, err := readline.MakeRaw(fd)
		saved = st
		return err
	}
	cfg.FuncExitRaw = func() error {
		if saved == nil {
			return nil
		}
		return readline.Restore(fd, saved)
	}
	cfg.FuncGetWidth = func() int {
		if w, _, err := readline.GetSize(fd); err == nil && w > 0 {
			return w
		}
		return 80
	}
}

func (t *Terminal) loop(ctx context.Context, s *Session, rl *readline.Instance) error {
	pending := &t.pending
	for !s.Done() {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			pending.Reset()
			rl.SetPrompt(s.paint("1;36", prompt))
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		pending.WriteString(line + "\n")
		if Incomplete(pending.String()) {
			rl.SetPrompt(s.paint("2", contPrompt))
			continue
		}
		input := pending.String()
		pending.Reset()
		rl.SetPrompt(s.paint("1;36", prompt))
		if h := HistoryLine(input); h != "" {
			_ = rl.SaveHistory(h)
		}
		evalInterruptible(ctx, s, input)
	}
	return nil
}

// evalInterruptible evaluates one input with Ctrl-C (SIGINT) cancelling
// only it: the statement running stops at its next safe point, the state
// goes back to before it, and the session continues. (At the prompt the
// terminal is in raw mode and readline reads Ctrl-C as a key.)
func evalInterruptible(ctx context.Context, s *Session, input string) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	s.Eval(ctx, input)
}

// runPlain evaluates lines from a non-terminal, without prompts.
func (t *Terminal) runPlain(ctx context.Context, s *Session) error {
	s.SetOutput(t.Out)
	sc := bufio.NewScanner(t.In)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var pending strings.Builder
	for !s.Done() && sc.Scan() {
		pending.WriteString(sc.Text() + "\n")
		if Incomplete(pending.String()) {
			continue
		}
		s.Eval(ctx, pending.String())
		pending.Reset()
	}
	if pending.Len() > 0 && !s.Done() {
		s.Eval(ctx, pending.String())
	}
	return sc.Err()
}

// completer adapts Session.Complete to readline: it completes the field
// before the cursor (the lines of an open block before it count), adding
// a blank after a finished word.
type completer struct {
	s       *Session
	pending *strings.Builder
}

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	partial, cands := c.s.Complete(c.pending.String() + string(line[:pos]))
	var out [][]rune
	for _, cand := range cands {
		suffix := strings.TrimPrefix(cand.Text, partial)
		if !strings.HasSuffix(cand.Text, "=") && !strings.HasSuffix(cand.Text, "(") && len(cands) == 1 {
			suffix += " "
		}
		out = append(out, []rune(suffix))
	}
	return out, len([]rune(partial))
}
