// Package scripts holds no Go code: it is where the tests of the
// repository's shell scripts live. deps.sh installs what the tests need
// (the one list of packages, called by `make test` and .ci/run); its tests
// run it against a fake root and fake apt-get, sudo and npm, and run the
// README's test command in a fresh clone with deps.sh in dry-run mode.
// The Python scripts beside it generate reference files and time peers.
package scripts
