# qpipe — common tasks. `make test` is the command CI and the README use.

GO        ?= go
TESTFLAGS ?= -timeout 10m
PKGS      ?= ./...
# PUREGO_PKGS run their tests a second time with -tags purego, and
# AVX2_PKGS a third time with the AVX-512 kernels turned off
# (GODEBUG=cpu.avx512f=off: the AVX2 ones); empty: not.
PUREGO_PKGS ?= ./ops ./ops/cpu/...
AVX2_PKGS   ?= ./ops ./ops/cpu/...
# FUZZTIME bounds every fuzzer alike (e.g. FUZZTIME=30s); left empty, each
# runs a fixed number of executions (about 15 s each on an idle 2-core
# machine). Counts, not durations, by default: Go 1.26's fuzz coordinator
# can fail a clean run with "context deadline exceeded" when a duration's
# deadline hits a worker mid-input on a loaded machine (golang/go#75804,
# fixed in Go 1.27); a count has no deadline to race.
FUZZTIME  ?=
# DEPSFLAGS=--dry-run lists what scripts/deps.sh would install instead.
DEPSFLAGS ?=

.PHONY: all build deps test lint fuzz bench cuda-check

all: lint test

## build: compile every package and the qpipe binary into ./bin
build:
	$(GO) build ./...
	$(GO) build -o bin/qpipe ./cmd/qpipe

## deps: install what the tests need and is missing (scripts/deps.sh)
deps:
	./scripts/deps.sh $(DEPSFLAGS)

## test: install what is missing, then run every test (unit, golden, testscript),
## and the CPU engine's tests once more on its portable Go kernels (-tags
## purego: what arm64 runs) and once on the AVX2 kernels (what x86 without
## AVX-512 runs); there the fast-path tests skip, so QPIPE_REQUIRE_AVX512
## is not passed on
test: deps
	$(GO) test $(TESTFLAGS) $(PKGS)
	$(if $(PUREGO_PKGS),env -u QPIPE_REQUIRE_AVX512 $(GO) test $(TESTFLAGS) -tags purego $(PUREGO_PKGS))
	$(if $(AVX2_PKGS),env -u QPIPE_REQUIRE_AVX512 GODEBUG=cpu.avx512f=off $(GO) test $(TESTFLAGS) -count=1 $(AVX2_PKGS))

## lint: gofmt must have nothing to say, and go vet must pass
lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## fuzz: a bounded run of each fuzzer (parser, parser at depth, every file loader)
fuzz:
	$(GO) test ./lang/format -run='^$$' -fuzz=FuzzParseCheckFormat -fuzztime=$(or $(FUZZTIME),40000x)
	$(GO) test ./lang/syntax -run='^$$' -fuzz=FuzzParseDeep -fuzztime=$(or $(FUZZTIME),300x)
	$(GO) test ./ops/onnx -run='^$$' -fuzz=FuzzImport -fuzztime=$(or $(FUZZTIME),40000x)
	$(GO) test ./ops/modelio -run='^$$' -fuzz=FuzzDecodeSafetensors -fuzztime=$(or $(FUZZTIME),300000x)
	$(GO) test ./ops/data -run='^$$' -fuzz=FuzzNpy -fuzztime=$(or $(FUZZTIME),300000x)
	$(GO) test ./ops/data -run='^$$' -fuzz=FuzzIDX -fuzztime=$(or $(FUZZTIME),400000x)

## bench: the Go benchmarks, without running the tests
bench:
	$(GO) test -run='^$$' -bench=. ./...

## cuda-check: the GPU backend where there is no GPU (CI): build and vet
## with -tags cuda (cgo against cuda.h and libcuda from nvidia-cuda-dev),
## the stale-PTX check, the cuda-tagged tests (GPU ones skip and say why),
## and a -tags cuda qpipe that must refuse --device cuda with the driver's
## reason, exit 1, instead of cu's bare exit (docs/cuda.md)
cuda-check:
	$(GO) build -tags cuda ./...
	$(GO) vet -tags cuda ./ops/cuda/... ./cmd/qpipe ./bench
	$(GO) test -count=1 ./ops/cuda/kernels
	@out=$$($(GO) test -tags cuda -count=1 -run 'GPU|NoGPU' -v ./ops/cuda 2>&1); rc=$$?; \
	echo "$$out" | grep -E '^(--- |ok|FAIL)|not run|_test.go'; exit $$rc
	scripts/device/nogpu.sh
