package check

import (
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/internal/spell"
)

// maxListed bounds how many known names a message lists.
const maxListed = 8

// Distance is spell.Distance, kept for callers of the checker's API.
func Distance(a, b string) int { return spell.Distance(a, b) }

// Suggest is spell.Suggest, kept for callers of the checker's API.
func Suggest(name string, candidates []string) []string { return spell.Suggest(name, candidates) }

// didYouMean writes the detail sentence of an unknown-name diagnostic:
// `did you mean "gelu"? known activations: gelu, relu, ...`.
func didYouMean(name, plural string, known []string) string {
	list := knownList(plural, known)
	near := Suggest(name, known)
	if len(near) == 0 {
		return list
	}
	return fmt.Sprintf("did you mean %q? %s", near[0], list)
}

func knownList(plural string, known []string) string {
	if len(known) == 0 {
		return "there are no " + plural + " yet"
	}
	shown := known
	more := ""
	if len(shown) > maxListed {
		shown, more = shown[:maxListed], ", ..."
	}
	return "known " + plural + ": " + strings.Join(shown, ", ") + more
}

// plural makes a message noun plural.
func plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"):
		return noun + "es"
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey"):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}
