package syntax

import (
	"strconv"
	"strings"
)

// unquote reads a double-quoted string with Go escapes; an escape Go does
// not know is kept as written.
func unquote(s string) string {
	if v, err := strconv.Unquote(s); err == nil {
		return v
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
}
