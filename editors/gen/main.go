// Command gen writes the editor grammars under editors/ from the standard
// library's signatures: verbs, argument names and the words and values
// they accept. Run it with `go generate ./editors` (from the repository
// root); each file it writes says so on its first line.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", ".", "the editors/ directory to write into")
	flag.Parse()
	files, err := Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, path := range sortedPaths(files) {
		out := filepath.Join(*dir, path)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(out, files[path], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
