// Package strictjson decodes a JSON request body the way an API that treats its input as
// hostile must: one object, valid UTF-8, every key spelled exactly as the target's json tag
// (Go's decoder matches keys case-insensitively, so "ISV_SLUG" would fill isv_slug), no key
// twice (Go keeps the last, so a second "customer_id" would replace a checked first one), no
// unknown key and nothing after the value. Errors name the field and the rule, never a Go
// type.
package strictjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// FieldError is one field and the rule it broke; Field is empty for the body as a whole.
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// Error is a body that is not acceptable.
type Error struct{ Fields []FieldError }

func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		if f.Field == "" {
			parts[i] = f.Rule
		} else {
			parts[i] = f.Field + ": " + f.Rule
		}
	}
	return "bad JSON body: " + strings.Join(parts, "; ")
}

func fail(field, rule string) error { return &Error{Fields: []FieldError{{field, rule}}} }

// Decode checks data against dst's type and then fills dst (a pointer to a struct).
func Decode(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return fail("", "the body must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t := reflect.TypeOf(dst)
	if t.Kind() != reflect.Pointer {
		return errors.New("strictjson: dst must be a pointer")
	}
	tok, err := dec.Token()
	if err != nil {
		return fail("", "the body must be one JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fail("", "the body must be one JSON object")
	}
	if err := walkObject(dec, t.Elem(), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail("", "nothing may follow the JSON object")
	}
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail(te.Field, "must be "+kindName(te.Type))
		}
		return fail("", "the body is not valid JSON")
	}
	return nil
}

func kindName(t reflect.Type) string {
	if t.String() == "time.Duration" {
		return "a duration in nanoseconds (an integer)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer in range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number in range"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}

// fields maps the exact json names of a struct's fields to their types.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// walkObject reads an object's keys and values (its '{' already read) against t.
func walkObject(dec *json.Decoder, t reflect.Type, path string) error {
	t = deref(t)
	var known map[string]reflect.Type
	if t.Kind() == reflect.Struct {
		known = fields(t)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(path, "is not valid JSON")
		}
		key := tok.(string)
		field := key
		if path != "" {
			field = path + "." + key
		}
		if seen[key] {
			return fail(field, "appears more than once")
		}
		seen[key] = true
		var child reflect.Type
		switch {
		case known != nil:
			ct, ok := known[key]
			if !ok {
				return fail(field, "is not a field of this request (names are case-sensitive)")
			}
			child = ct
		case t.Kind() == reflect.Map:
			child = t.Elem()
		default:
			return fail(path, "must be "+kindName(t))
		}
		if err := walkValue(dec, child, field); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return fail(path, "is not valid JSON")
	}
	return nil
}

func walkValue(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fail(path, "is not valid JSON")
	}
	d, ok := tok.(json.Delim)
	if !ok {
		// A scalar: its type is checked by the decode that follows, but for bytes, whose
		// decode error names no field.
		if str, isStr := tok.(string); isStr && deref(t).Kind() == reflect.Slice && deref(t).Elem().Kind() == reflect.Uint8 {
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				return fail(path, "must be base64 (standard encoding, with padding)")
			}
		}
		return nil
	}
	t = deref(t)
	switch d {
	case '{':
		if t.Kind() != reflect.Struct && t.Kind() != reflect.Map && t.Kind() != reflect.Interface {
			return fail(path, "must be "+kindName(t))
		}
		if t.Kind() == reflect.Interface {
			return walkObject(dec, reflect.TypeOf(map[string]any{}), path)
		}
		return walkObject(dec, t, path)
	case '[':
		elem := reflect.TypeOf((*any)(nil)).Elem()
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			elem = t.Elem()
		} else if t.Kind() != reflect.Interface {
			return fail(path, "must be "+kindName(t))
		}
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		if err != nil {
			return fail(path, "is not valid JSON")
		}
	}
	return nil
}
