// Package spell owns near-name suggestions ("did you mean ...?") for every
// part of qpipe that rejects an unknown name: recipe words and arguments,
// CLI subcommands, zoo models and datasets. It imports nothing of the
// module, so the engine and the language may both use it.
package spell

import (
	"sort"
	"strings"
)

// Distance is the optimal-string-alignment (restricted Damerau-Levenshtein)
// distance: insertions, deletions, substitutions and swaps of two adjacent
// letters each cost 1, so "gleu" is 1 away from "gelu".
func Distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cur[j] = editStep(a, b, i, j, prev2, prev, cur)
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func editStep(a, b string, i, j int, prev2, prev, cur []int) int {
	cost := 1
	if a[i-1] == b[j-1] {
		cost = 0
	}
	d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
	if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
		d = min(d, prev2[j-2]+1)
	}
	return d
}

// Suggest returns the candidates near name, closest first: within a third
// of the name's length (at least 1, at most 3 edits), or sharing a prefix
// of three letters or more. Case is ignored.
func Suggest(name string, candidates []string) []string {
	type near struct {
		s string
		d int
	}
	var out []near
	low := strings.ToLower(name)
	limit := min(max(len(name)/3, 1), 3)
	for _, c := range candidates {
		d := Distance(low, strings.ToLower(c))
		if d <= limit && d < len(low) || (len(low) >= 3 && strings.HasPrefix(strings.ToLower(c), low)) {
			out = append(out, near{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	names := make([]string, len(out))
	for i, n := range out {
		names[i] = n.s
	}
	return names
}

// Nearest is the closest suggestion for name, or "" when none is near.
func Nearest(name string, candidates []string) string {
	if s := Suggest(name, candidates); len(s) > 0 {
		return s[0]
	}
	return ""
}
