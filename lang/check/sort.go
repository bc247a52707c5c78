package check

import (
	"sort"

	"github.com/qpipe/qpipe/lang/diag"
)

// sortKeepingNotes orders diagnostics by position like diag.Sort, but
// keeps each note right after the error or warning it explains (a rule
// reports "replace after quantize" and then a note at the quantize line).
func sortKeepingNotes(ds diag.Diagnostics) diag.Diagnostics {
	var groups []diag.Diagnostics
	for _, d := range ds {
		if d.Severity == diag.Note && len(groups) > 0 {
			groups[len(groups)-1] = append(groups[len(groups)-1], d)
			continue
		}
		groups = append(groups, diag.Diagnostics{d})
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i][0].Span, groups[j][0].Span
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Start.Offset < b.Start.Offset
	})
	out := ds[:0:0]
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
