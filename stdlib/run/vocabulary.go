package run

import (
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
)

// Vocabulary is the checker's Env for this build: base's signatures, and
// which steps execute (check.Executability), from the verb table and each
// verb's Unsupported. Check, plan, the LSP and the REPL check with it, so
// they say "checked, not executable in this build" before a run starts.
func Vocabulary(base check.Env) check.Env { return vocabulary{base} }

type vocabulary struct{ check.Env }

// NotExecutable implements check.Executability.
func (vocabulary) NotExecutable(step *check.Step) (string, source.Span, bool) {
	return notExecutableStep(step)
}

// notExecutableStep names what of step has no engine in this build.
func notExecutableStep(s *check.Step) (string, source.Span, bool) {
	v, ok := lookup(s.Verb)
	if !ok {
		return s.Verb, verbSpan(s), true
	}
	if v.Unsupported != nil {
		if what, at, bad := v.Unsupported(s); bad {
			if !at.IsValid() {
				at = verbSpan(s)
			}
			return what, at, true
		}
	}
	return "", source.Span{}, false
}

// CheckedOnly are the verbs and variants this build checks and plans but
// does not execute yet, each with the issue that brings its engine. A
// signature neither executable nor listed here fails
// TestEverySignatureExecutesOrIsMarked.
var CheckedOnly = map[string]string{
	// ops has no kernel for these activations yet.
	"replace with activation leaky_relu": "an ops kernel for leaky_relu",
	"replace with activation relu6":      "an ops kernel for relu6",
}
