#!/usr/bin/env bash
# scripts/deps.sh — install what qpipe's tests need, and only what is
# missing. `make test` and `.ci/run` call it before the tests; run it by
# hand the same way (from anywhere):
#
#   scripts/deps.sh            install what is missing, then exit 0
#   scripts/deps.sh --dry-run  list what would be installed or run; change nothing
#
# Debian packages are installed with apt-get when it can run as root (root
# itself, or sudo without a password); otherwise the script prints the one
# command to run and exits 1, so `make test` stops before the tests. The
# npm steps (`npm ci` from the committed lock files) need no privileges and
# install into the checkout. On a ready machine it checks one file or
# command per line of the list below, installs nothing and takes well
# under a second.
#
# Exit status: 0 ready (or --dry-run), 1 something is missing and could not
# be installed (the message says what to run), 2 usage.
#
# For tests of this script: QPIPE_DEPS_ROOT is prepended to every absolute
# proof path (a fake root), and apt-get, sudo and npm are looked up on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# ---------------------------------------------------------------------------
# THE LIST — what the tests need. One line per dependency:
#
#   apt  PACKAGE  PROOF           NEEDED BY
#   npm  FOLDER   FLAGS|-         NEEDED BY
#
# apt: PROOF is a command (no slash) that must be on PATH, or an absolute
#      path that the package installs. The package is installed when its
#      proof is missing. Choose a proof that only that package provides.
# npm: `npm ci FLAGS` runs in FOLDER (which holds package-lock.json) when
#      FOLDER/node_modules/.package-lock.json is missing or older than the
#      lock file.
# NEEDED BY names the test (package or file) that needs the dependency.
# To add one, add a line here; nothing else reads another list.
# ---------------------------------------------------------------------------
read -r -d '' DEPS <<'EOF' || true
apt git                   git                                                            go build stamps VCS info; scripts/clone_test.go clones the repository
apt make                  make                                                           make test, make lint
apt graphviz              dot                                                            planner: DOT views are validated by dot
apt vim-nox               vim                                                            editors/editors_test.go: headless Vim highlights a sample
apt emacs-nox             emacs                                                          editors/editors_test.go: headless Emacs highlights a sample
apt nodejs                node                                                           editors (VS Code grammar), ops/onnx (ONNX Runtime)
apt npm                   npm                                                            the npm ci steps below
apt python3-onnx          /usr/lib/python3/dist-packages/onnx/__init__.py                ops/onnx: onnx.checker on exported models
apt python3-torch         /usr/lib/python3/dist-packages/torch/__init__.py               stdlib/zoo/torch_test.go, ops: PyTorch reference outputs
apt python3-torchvision   /usr/lib/python3/dist-packages/torchvision/__init__.py         ops/onnx/torchvision_test.go: exports torchvision's classifiers (random weights)
apt libonnx-testdata      /usr/share/libonnx-testdata/data/node                          ops/onnx/conformance_test.go: the ONNX backend test suite
apt python3-sklearn       /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz   ops/data: the UCI digits dataset
apt dataset-fashion-mnist /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz    ops/data, stdlib/run: the real Fashion-MNIST
apt python3-torchvision   /usr/lib/python3/dist-packages/torchvision/__init__.py         ops/onnx/torchvision_test.go: exports torchvision classifiers (random weights)
apt libonnx-testdata      /usr/share/libonnx-testdata/data/node                          ops/onnx/conformance_test.go: the ONNX backend test suite
apt chromium              chromium                                                       stdlib/run/htmlreport/browser_test.go: report.html in headless chromium
apt slurm-wlm             slurmctld                                                      cmd/qpipe/slurm_test.go: a real single-node Slurm (scripts/slurm/start.sh)
apt munge                 munged                                                         scripts/slurm/start.sh: Slurm's authentication
apt g++                   g++                                                            ops/cuda/emu: the CUDA kernels compiled as host C++ (emulated conformance)
apt nvidia-cuda-dev       /usr/include/cuda.h                                            .ci/run: go build/vet -tags cuda (cgo needs cuda.h and libcuda; contrib/non-free)
npm editors/vscode        -                                                              editors: VS Code grammar test, vsce package
npm scripts/ort           --ignore-scripts                                               ops/onnx/ort_test.go: onnxruntime-node (its install script only fetches GPU add-ons)
EOF

dry=""
case "${1:-}" in
"") ;;
--dry-run | -n) dry=1 ;;
-h | --help)
	sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "scripts/deps.sh: unknown argument $1 (use --dry-run or --help)" >&2
	exit 2
	;;
esac

# has PROOF: the command is on PATH, or the absolute path exists.
has() {
	case $1 in
	/*) [ -e "${QPIPE_DEPS_ROOT:-}$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# npm_ready FOLDER: node_modules was installed from the current lock file.
npm_ready() {
	local stamp=$1/node_modules/.package-lock.json
	[ -e "$stamp" ] && ! [ "$1/package-lock.json" -nt "$stamp" ]
}

missing_apt=()
missing_npm=()
while read -r kind name proof needed; do
	case $kind in
	apt) has "$proof" || missing_apt+=("$name") ;;
	npm) npm_ready "$name" || missing_npm+=("$name $proof") ;;
	*)
		echo "scripts/deps.sh: bad list line: $kind $name $proof $needed" >&2
		exit 2
		;;
	esac
done <<<"$DEPS"

if ! command -v go >/dev/null 2>&1; then
	echo "scripts/deps.sh: Go is not on PATH; install Go $(sed -n 's/^go //p' go.mod) or newer (https://go.dev/dl/)" >&2
	exit 1
fi

npm_command() { # FOLDER FLAGS
	local flags=$2
	[ "$flags" = - ] && flags=""
	echo "(cd $1 && npm ci $flags --no-audit --no-fund --no-update-notifier)" | tr -s ' '
}

if [ -n "$dry" ]; then
	if [ ${#missing_apt[@]} -eq 0 ]; then
		echo "apt: nothing to install"
	else
		echo "apt: would install ${missing_apt[*]}"
	fi
	if [ ${#missing_npm[@]} -eq 0 ]; then
		echo "npm: nothing to run"
	else
		for m in "${missing_npm[@]}"; do
			# shellcheck disable=SC2086
			echo "npm: would run $(npm_command $m)"
		done
	fi
	exit 0
fi

# NONFREE are the packages of the list that Debian ships in its contrib and
# non-free areas (the CUDA headers need the NVIDIA driver library).
NONFREE="nvidia-cuda-dev"
nonfree_sources=/etc/apt/sources.list.d/debian.sources
nonfree_cmd="sed -i 's/^Components: main\$/Components: main contrib non-free non-free-firmware/' $nonfree_sources && apt-get update"

# enable_nonfree adds contrib and non-free to the Debian sources when a
# missing package needs them and apt has no candidate for it (after the
# update above); it says what it changed, or what to run where it cannot.
enable_nonfree() {
	command -v apt-cache >/dev/null 2>&1 || return 0
	local p need=""
	for p in "${missing_apt[@]}"; do
		case " $NONFREE " in *" $p "*)
			apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' || need="$need $p" ;;
		esac
	done
	[ -z "$need" ] && return 0
	if ! grep -q '^Components: main$' "$nonfree_sources" 2>/dev/null; then
		echo "scripts/deps.sh:$need is in Debian's contrib/non-free areas, which apt does not offer here;" >&2
		echo "enable them in your apt sources (add 'contrib non-free' to each Debian entry), run apt-get update, then make test again." >&2
		exit 1
	fi
	echo "== enabling Debian contrib/non-free for$need: $nonfree_cmd"
	$sudo sh -c "$nonfree_cmd" >/dev/null
}

if [ ${#missing_apt[@]} -gt 0 ]; then
	apt_cmd="apt-get install -y -qq --no-install-recommends ${missing_apt[*]}"
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "scripts/deps.sh: the tests need these Debian packages, and this machine has no apt-get: ${missing_apt[*]}" >&2
		echo "Install their equivalents with your system's package manager, then run make test again." >&2
		exit 1
	fi
	if [ "$(id -u)" = 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "scripts/deps.sh: the tests need Debian packages that are missing: ${missing_apt[*]}" >&2
		echo "Install them with this command, then run make test again:" >&2
		case " ${missing_apt[*]} " in *" nvidia-cuda-dev "*)
			echo "(nvidia-cuda-dev is in Debian's contrib/non-free areas; where apt does not offer it, first: sudo sh -c \"$nonfree_cmd\")" >&2 ;;
		esac
		echo "  sudo sh -c 'apt-get update && $apt_cmd'" >&2
		exit 1
	fi
	echo "== installing ${missing_apt[*]} (apt-get)"
	$sudo apt-get update -qq
	enable_nonfree
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive $apt_cmd >/dev/null
fi

for m in "${missing_npm[@]}"; do
	# shellcheck disable=SC2086
	cmd=$(npm_command $m)
	echo "== $cmd"
	if ! bash -c "$cmd"; then
		echo "scripts/deps.sh: $cmd failed; it needs the npm registry (https://registry.npmjs.org)" >&2
		exit 1
	fi
done
