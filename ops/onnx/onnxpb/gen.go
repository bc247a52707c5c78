// Package onnxpb is the Go binding of the ONNX protobuf schema (onnx.proto
// copied from Debian's python3-onnx 1.12, IR version 8), generated with
// protoc and protoc-gen-go.
package onnxpb

// Regenerate onnx.pb.go after updating onnx.proto (apt-get install protobuf-compiler;
// go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12):
//go:generate sh -c "protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/qpipe/qpipe/ops/onnx/onnxpb onnx.proto && sed -i '1i // Regenerate with: cd ops/onnx/onnxpb && go generate (protoc 3.21 + protoc-gen-go v1.36.12).' onnx.pb.go"
