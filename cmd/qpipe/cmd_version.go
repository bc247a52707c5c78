package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		Name:    "version",
		Args:    "",
		Summary: "print the module version, Go version and commit",
		Flags: func(fs *flag.FlagSet) func(*IO, []string) error {
			return runVersion
		},
	})
}

func runVersion(sys *IO, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	_, err := fmt.Fprint(sys.Stdout, versionText(info))
	return err
}

// versionText renders three lines: module version, Go toolchain, commit.
func versionText(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	commit := "unknown (built without version control information)"
	if rev := settings["vcs.revision"]; rev != "" {
		commit = rev
		if t := settings["vcs.time"]; t != "" {
			commit += " " + t
		}
		if settings["vcs.modified"] == "true" {
			commit += " (modified)"
		}
	}
	return fmt.Sprintf("qpipe %s\ngo: %s %s/%s\ncommit: %s\n",
		version, info.GoVersion, runtime.GOOS, runtime.GOARCH, commit)
}
