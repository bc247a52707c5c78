package check

// unit is one accepted unit suffix: its family and its size in the
// family's base unit (seconds, bytes).
type unit struct {
	family Type // TDuration or TBytes
	scale  float64
}

var units = map[string]unit{
	"ns": {TDuration, 1e-9}, "us": {TDuration, 1e-6}, "ms": {TDuration, 1e-3},
	"s": {TDuration, 1}, "min": {TDuration, 60}, "h": {TDuration, 3600},
	"B": {TBytes, 1}, "KB": {TBytes, 1e3}, "MB": {TBytes, 1e6}, "GB": {TBytes, 1e9},
	"KiB": {TBytes, 1 << 10}, "MiB": {TBytes, 1 << 20}, "GiB": {TBytes, 1 << 30},
}

// familyName describes a unit family for messages.
func familyName(t Type) string {
	switch t {
	case TDuration:
		return "a time (ns, us, ms, s, min, h)"
	case TBytes:
		return "a size (B, KB, MB, GB, KiB, MiB, GiB)"
	}
	return "a plain number"
}

// shortFamily is the family's one-word name.
func shortFamily(t Type) string {
	switch t {
	case TDuration:
		return "time"
	case TBytes:
		return "size"
	}
	return "number"
}

const unitHelp = "times are written like 5ms, 2s or 300us; sizes like 2MB, 512KiB or 1GB"
