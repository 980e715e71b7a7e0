package tracker

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// Reasons an event is rejected, as counted in Stats and named in logs.
const (
	ReasonEmptyName   = "empty_name"
	ReasonUnencodable = "unencodable"
	ReasonTooLarge    = "too_large"
)

// maxDepth bounds how deeply property values nest; deeper is taken for a
// cycle (encoding/json gives up on cycles too).
const maxDepth = 32

// valueError says which property could not be encoded and why. It names the
// key and the Go type, never the value.
type valueError struct {
	key    string
	reason string
}

func (e *valueError) Error() string { return fmt.Sprintf("property %q: %s", e.key, e.reason) }

// checkEvent validates e cheaply on the caller's goroutine and returns the
// approximate size of its JSON encoding and how many secret keys it holds,
// at any depth (a secret key's own contents are not counted: it goes
// whole). Common value types cost a type switch each; other types are
// walked with reflect, without encoding.
func checkEvent(e *Event, red *redactor) (size, secrets int, err *valueError) {
	size = 96 + len(e.Name) + len(e.DistinctID) + len(e.UUID)
	for k, v := range e.Groups {
		size += len(k) + len(v) + 6
	}
	for k, v := range e.Properties {
		secret := red.secret(k)
		n, reason := valueSize(v, 0, red, &secrets, secret)
		if reason != "" {
			return 0, 0, &valueError{key: k, reason: reason}
		}
		size += len(k) + 4 + n
		if secret {
			secrets++
		}
	}
	return size, secrets, nil
}

// valueSize returns the approximate encoded size of v, or why v cannot be
// encoded as JSON. With a redactor, and unless inSecret (v sits under a key
// that goes whole), it adds to *secrets the secret keys of the maps and
// structs nested in v.
func valueSize(v any, depth int, red *redactor, secrets *int, inSecret bool) (int, string) {
	if depth > maxDepth {
		return 0, fmt.Sprintf("nested deeper than %d levels (a cycle?)", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return 4, ""
	case string:
		return len(x) + 2, ""
	case bool:
		return 5, ""
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return 20, ""
	case float64:
		return floatSize(x)
	case float32:
		return floatSize(float64(x))
	case time.Time, time.Duration:
		return 32, ""
	case json.Number:
		return len(x), ""
	case json.RawMessage:
		return len(x), ""
	case []byte:
		return len(x)*4/3 + 4, ""
	case []string:
		n := 2
		for _, s := range x {
			n += len(s) + 3
		}
		return n, ""
	case map[string]string:
		n := 2
		for k, s := range x {
			n += len(k) + len(s) + 6
			countSecret(red, secrets, inSecret, k)
		}
		return n, ""
	case []any:
		n := 2
		for _, e := range x {
			m, r := valueSize(e, depth+1, red, secrets, inSecret)
			if r != "" {
				return 0, r
			}
			n += m + 1
		}
		return n, ""
	case map[string]any:
		n := 2
		for k, e := range x {
			secret := countSecret(red, secrets, inSecret, k)
			m, r := valueSize(e, depth+1, red, secrets, inSecret || secret)
			if r != "" {
				return 0, r
			}
			n += len(k) + 4 + m
		}
		return n, ""
	case json.Marshaler, encoding.TextMarshaler:
		return selfEncodedSize(x)
	}
	return reflectSize(reflect.ValueOf(v), depth, red, secrets, inSecret)
}

// countSecret reports whether the map key or field name k is secret, and
// counts it in *secrets, unless there is no redactor or k sits under a
// secret key already (it goes whole).
func countSecret(red *redactor, secrets *int, inSecret bool, k string) bool {
	if red == nil || inSecret || !red.secret(k) {
		return false
	}
	*secrets++
	return true
}

// selfEncodedSize encodes a value that encodes itself (MarshalJSON or
// MarshalText) once, on the caller, so that a method that fails or panics
// rejects the event here rather than failing a whole batch in a sink, and
// the size counts. Only such values pay for an encoding on the caller.
func selfEncodedSize(v any) (int, string) {
	b, err := marshalRecovering(v)
	switch {
	case errors.Is(err, errMarshalPanic):
		return 0, fmt.Sprintf("%T: its MarshalJSON or MarshalText method panicked", v)
	case err != nil:
		return 0, fmt.Sprintf("%T: its MarshalJSON or MarshalText method failed", v)
	}
	return len(b), ""
}

func floatSize(f float64) (int, string) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "NaN or infinite number"
	}
	return 24, ""
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func reflectSize(v reflect.Value, depth int, red *redactor, secrets *int, inSecret bool) (int, string) {
	if depth > maxDepth {
		return 0, fmt.Sprintf("nested deeper than %d levels (a cycle?)", maxDepth)
	}
	if !v.IsValid() {
		return 4, ""
	}
	t := v.Type()
	if (t.Implements(marshalerType) || t.Implements(textMarshalerType)) && v.CanInterface() {
		return selfEncodedSize(v.Interface())
	}
	switch v.Kind() {
	case reflect.Bool:
		return 5, ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return 20, ""
	case reflect.Float32, reflect.Float64:
		return floatSize(v.Float())
	case reflect.String:
		return v.Len() + 2, ""
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 4, ""
		}
		return reflectSize(v.Elem(), depth+1, red, secrets, inSecret)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return 4, ""
		}
		n := 2
		for i := 0; i < v.Len(); i++ {
			m, r := reflectSize(v.Index(i), depth+1, red, secrets, inSecret)
			if r != "" {
				return 0, r
			}
			n += m + 1
		}
		return n, ""
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !t.Key().Implements(textMarshalerType) {
				return 0, fmt.Sprintf("map with %s keys", t.Key())
			}
		}
		n := 2
		it := v.MapRange()
		for it.Next() {
			secret := it.Key().Kind() == reflect.String && countSecret(red, secrets, inSecret, it.Key().String())
			m, r := reflectSize(it.Value(), depth+1, red, secrets, inSecret || secret)
			if r != "" {
				return 0, r
			}
			n += 24 + m
		}
		return n, ""
	case reflect.Struct:
		n := 2
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, ok := jsonFieldName(f)
			if !ok {
				continue
			}
			secret := countSecret(red, secrets, inSecret, name)
			m, r := reflectSize(v.Field(i), depth+1, red, secrets, inSecret || secret)
			if r != "" {
				return 0, r
			}
			n += len(name) + 4 + m
		}
		return n, ""
	}
	return 0, fmt.Sprintf("value of type %s cannot be encoded as JSON", t)
}

// jsonFieldName returns the name encoding/json gives a struct field, and
// false for a field it leaves out.
func jsonFieldName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name, true
	}
	return f.Name, true
}
