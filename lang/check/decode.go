package check

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Decode copies a checked step's resolved words and arguments into the
// struct into points to, once, so an engine reads typed fields instead of
// looking values up by name. A field tagged `arg:"name"` takes the
// argument, `word:"name"` the word slot; untagged fields are left alone.
// Field types: int, int64, uint64, float64, bool, string (identifiers,
// strings and paths), time.Duration (times, which the checker keeps in
// seconds), []int, []float64, []string, and Value for anything else. A
// value the step lacks leaves the field as it is; a value of the wrong
// kind is an error naming the field (a signature and its engine
// disagree).
func (s *Step) Decode(into any) error {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("check: Decode needs a pointer to a struct, not %T", into)
	}
	rv = rv.Elem()
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		v, ok := s.tagged(f.Tag)
		if !ok {
			continue
		}
		if err := setField(rv.Field(i), v); err != nil {
			return fmt.Errorf("check: %s %s: field %s: %w", s.Verb, f.Tag, f.Name, err)
		}
	}
	return nil
}

// tagged is the value a field's tag names, if the step has it.
func (s *Step) tagged(tag reflect.StructTag) (Value, bool) {
	if name, ok := tag.Lookup("arg"); ok {
		v, has := s.Args[name]
		return v, has && v.Kind != VNone
	}
	if name, ok := tag.Lookup("word"); ok {
		v, has := s.Words[name]
		return v, has && v.Kind != VNone
	}
	return Value{}, false
}

var (
	valueType    = reflect.TypeOf(Value{})
	durationType = reflect.TypeOf(time.Duration(0))
)

func setField(f reflect.Value, v Value) error {
	switch {
	case f.Type() == valueType:
		f.Set(reflect.ValueOf(v))
		return nil
	case f.Type() == durationType:
		if !isNumber(v) {
			return kindError(v, "a time")
		}
		f.SetInt(int64(v.Number() * float64(time.Second)))
		return nil
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int64:
		if v.Kind != VInt {
			return kindError(v, "an integer")
		}
		f.SetInt(v.Int)
	case reflect.Uint64:
		if v.Kind != VInt || v.Int < 0 {
			return kindError(v, "a non-negative integer")
		}
		f.SetUint(uint64(v.Int))
	case reflect.Float64:
		if !isNumber(v) {
			return kindError(v, "a number")
		}
		f.SetFloat(v.Number())
	case reflect.Bool:
		if v.Kind != VBool {
			return kindError(v, "true or false")
		}
		f.SetBool(v.Bool)
	case reflect.String:
		if v.Kind != VString && v.Kind != VIdent {
			return kindError(v, "a name or string")
		}
		f.SetString(v.Str)
	case reflect.Slice:
		return setSlice(f, v)
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

// setSlice fills a slice field from a list (or one value).
func setSlice(f reflect.Value, v Value) error {
	items := v.List
	if v.Kind != VList {
		items = []Value{v}
	}
	out := reflect.MakeSlice(f.Type(), len(items), len(items))
	for i, it := range items {
		if err := setField(out.Index(i), it); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	f.Set(out)
	return nil
}

func isNumber(v Value) bool { return v.Kind == VInt || v.Kind == VFloat }

func kindError(v Value, want string) error {
	got := v.String()
	if strings.TrimSpace(got) == "" {
		got = "nothing"
	}
	return fmt.Errorf("want %s, the step has %s", want, got)
}
