# qpipe — common tasks. `make test` is the command CI and the README use.

GO        ?= go
TESTFLAGS ?= -timeout 10m
FUZZTIME  ?= 30s

.PHONY: all build test lint fuzz bench

all: lint test

## build: compile every package and the qpipe binary into ./bin
build:
	$(GO) build ./...
	$(GO) build -o bin/qpipe ./cmd/qpipe

## test: run every test (unit, golden, testscript)
test:
	$(GO) test $(TESTFLAGS) ./...

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
