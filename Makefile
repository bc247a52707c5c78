# qpipe — common tasks. `make test` is the command CI and the README use.

GO        ?= go
TESTFLAGS ?= -timeout 10m
PKGS      ?= ./...
FUZZTIME  ?= 30s
# DEPSFLAGS=--dry-run lists what scripts/deps.sh would install instead.
DEPSFLAGS ?=

.PHONY: all build deps test lint fuzz bench

all: lint test

## build: compile every package and the qpipe binary into ./bin
build:
	$(GO) build ./...
	$(GO) build -o bin/qpipe ./cmd/qpipe

## deps: install what the tests need and is missing (scripts/deps.sh)
deps:
	./scripts/deps.sh $(DEPSFLAGS)

## test: install what is missing, then run every test (unit, golden, testscript)
test: deps
	$(GO) test $(TESTFLAGS) $(PKGS)

## lint: gofmt must have nothing to say, and go vet must pass
lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## fuzz: a bounded run of each fuzzer (parser, parser at depth, every file loader)
fuzz:
	$(GO) test ./lang/format -run='^$$' -fuzz=FuzzParseCheckFormat -fuzztime=$(FUZZTIME)
	$(GO) test ./lang/syntax -run='^$$' -fuzz=FuzzParseDeep -fuzztime=$(FUZZTIME)
	$(GO) test ./ops/onnx -run='^$$' -fuzz=FuzzImport -fuzztime=$(FUZZTIME)
	$(GO) test ./ops/modelio -run='^$$' -fuzz=FuzzDecodeSafetensors -fuzztime=$(FUZZTIME)
	$(GO) test ./ops/data -run='^$$' -fuzz=FuzzNpy -fuzztime=$(FUZZTIME)
	$(GO) test ./ops/data -run='^$$' -fuzz=FuzzIDX -fuzztime=$(FUZZTIME)

## bench: the Go benchmarks, without running the tests
bench:
	$(GO) test -run='^$$' -bench=. ./...
