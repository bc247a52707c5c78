package ops

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/qpipe/qpipe/lang/source"
)

// ErrNotImplemented is returned (wrapped) by a backend for a primitive it
// does not provide. Callers test for it with errors.Is.
var ErrNotImplemented = errors.New("not implemented by this backend")

// OpError is the error of a primitive or of a model node: the op, the shapes
// it was given, and, when it came from a model node, the node's name and the
// Span of the recipe statement that created or last rewrote it.
type OpError struct {
	Op     string
	Shapes [][]int
	Node   string
	Span   source.Span
	Msg    string
	Err    error
}

func (e *OpError) Error() string {
	var b strings.Builder
	if e.Span.IsValid() {
		b.WriteString(e.Span.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Op)
	if e.Node != "" {
		fmt.Fprintf(&b, " (node %s)", e.Node)
	}
	if len(e.Shapes) > 0 {
		b.WriteString(" on shapes")
		for i, s := range e.Shapes {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %v", s)
		}
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// shapeErr panics with an OpError; Guard and Model.Forward turn it back into
// an error. Primitives use it so model code reads straight through.
func shapeErr(op string, msg string, ts ...*Tensor) {
	shapes := make([][]int, 0, len(ts))
	for _, t := range ts {
		if t != nil {
			shapes = append(shapes, append([]int(nil), t.Shape...))
		}
	}
	panic(&OpError{Op: op, Shapes: shapes, Msg: msg})
}

// check panics with an OpError wrapping a backend error.
func check(op string, err error, ts ...*Tensor) {
	if err == nil {
		return
	}
	shapes := make([][]int, 0, len(ts))
	for _, t := range ts {
		if t != nil {
			shapes = append(shapes, append([]int(nil), t.Shape...))
		}
	}
	panic(&OpError{Op: op, Shapes: shapes, Err: err})
}

// Guard runs fn and converts a panic raised inside it (an OpError from a
// primitive, or a runtime error such as an index out of range in a kernel)
// into an error, so no panic escapes to the user.
func Guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicToError(r)
		}
	}()
	return fn()
}

func panicToError(r any) error {
	switch v := r.(type) {
	case *OpError:
		return v
	case runtime.Error:
		return fmt.Errorf("ops: internal error: %v\n%s", v, stack())
	case error:
		return v
	default:
		return fmt.Errorf("ops: %v", v)
	}
}

func stack() string {
	buf := make([]byte, 8192)
	return string(buf[:runtime.Stack(buf, false)])
}
