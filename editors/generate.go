// Package editors holds the editor support for .qpipe recipes: a VS Code
// extension (vscode/), Vim and Neovim files (vim/) and an Emacs major mode
// (emacs/). Their keyword lists are generated from the standard library's
// signatures by gen/, so the grammars never drift from the language:
//
//	go generate ./editors
//
// The tests in this package check that the generated files are current
// and that each editor highlights a sample recipe as intended.
package editors

//go:generate go run ./gen
