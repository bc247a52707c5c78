//go:build !linux

package bounded

// physicalMemory is unknown off Linux; the 8 GiB default applies.
func physicalMemory() int64 { return 0 }
