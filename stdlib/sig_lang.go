package stdlib

import "github.com/qpipe/qpipe/lang/check"

// The statements below are checked by lang/check itself; their entries
// give `qpipe help` and the language server their documentation.

func letSig() *check.Signature {
	return &check.Signature{
		Verb:     "let",
		Summary:  "define a recipe parameter",
		Doc:      "`let NAME = VALUE` names a value known before the run (a number, percent, quantity, string, name, list, or arithmetic on those). Later words and arguments may use NAME; `qpipe run --set NAME=VALUE` replaces the value, which must be of the same kind. A name is defined once.",
		Examples: []string{"let bits = 3", "let lr = 1e-3 * 2", "quantize log2 bits=bits"},
	}
}

func expectSig() *check.Signature {
	return &check.Signature{
		Verb:    "expect",
		Summary: "assert a condition on metrics",
		Doc: "`expect CONDITION` fails the run when the condition is false. Conditions compare " +
			"metrics of the current model (accuracy, latency, size, ...) or of a snapshot " +
			"(teacher.accuracy) with bounds of the same kind: fractions and percents (0.9, 90%), times " +
			"(5ms), sizes (2MB); + - * / and and/or combine them. Every metric must be evaluated above; a " +
			"snapshot's metric is measured on the snapshot when only the current model was evaluated.",
		Examples: []string{"expect accuracy >= teacher.accuracy - 0.5%", "expect latency < 5ms and size <= 2MB"},
	}
}

func repeatSig() *check.Signature {
	return &check.Signature{
		Verb:     "repeat",
		Summary:  "run a block several times",
		Doc:      "`repeat N { ... }` runs the block N times in sequence (N a positive integer), for iterative schedules such as prune-then-finetune. Lets inside the block are local to it.",
		Examples: []string{"repeat 3 { prune ratio=0.2; finetune epochs=1 }"},
	}
}

func forSig() *check.Signature {
	return &check.Signature{
		Verb:    "for",
		Summary: "sweep: one branch per value",
		Doc: "`for x in [a, b, c] { ... }` or `for x in 1..5 { ... }` forks the pipeline from the " +
			"current state into one independent branch per value, with x bound to it inside the block " +
			"only. Statements after the loop continue from the state before it.",
		Examples: []string{"for bits in [2, 3, 4] { quantize log2 bits=bits; evaluate accuracy }"},
	}
}
