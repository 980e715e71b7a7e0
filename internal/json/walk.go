package json

import (
	"encoding"
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/multitrack/multitrack/internal/secret"
)

// Walker walks a property's value once. Measuring (Measure) answers whether
// JSON can encode it, about how many bytes it takes and, with a Rule, how
// many secret keys it holds; encoding (AppendValue, AppendObject) writes it.
// Both refuse the same values with the same *Error, and the same depth
// limit, MaxDepth.
//
// The common types (strings, numbers, bools, nil, time.Time, json.Number,
// map[string]any, []any, map[string]string, []string) cost a type switch
// each. Other values are walked with reflect; encoding then hands them to
// encoding/json. Values that encode themselves (MarshalJSON, MarshalText)
// are encoded when measured, so that a method that fails or panics is found
// there.
type Walker struct {
	// Rule, when set, makes Measure count in Secrets the map keys and struct
	// field names it matches, except under a secret key (whose value goes
	// whole).
	Rule *secret.Rule
	// Secrets counts the secret keys found so far.
	Secrets int

	encode bool
}

// Measure returns about how many bytes v's JSON encoding takes, or an *Error
// saying why JSON cannot encode v. inSecret says that v sits under a secret
// key: the keys inside it are then not counted.
func (w *Walker) Measure(v any, inSecret bool) (int, error) {
	w.encode = false
	_, n, err := w.walk(nil, v, 0, inSecret)
	return n, err
}

// MeasureObject measures the properties m as Measure measures a value: its
// values are at depth 0, and its secret keys count.
func (w *Walker) MeasureObject(m map[string]any) (int, error) {
	w.encode = false
	return w.measureEntries(m, 0, false)
}

// measureEntries measures a map whose values are at depth.
func (w *Walker) measureEntries(m map[string]any, depth int, inSecret bool) (int, error) {
	n := 2
	for k, e := range m {
		secret := w.countSecret(k, inSecret)
		_, s, err := w.walk(nil, e, depth, inSecret || secret)
		if err != nil {
			return 0, withKey(err, k)
		}
		n += len(k) + 4 + s
	}
	return n, nil
}

// countSecret reports whether the map key or field name k is secret, and
// counts it, unless there is no Rule or k sits under a secret key already.
func (w *Walker) countSecret(k string, inSecret bool) bool {
	if w.Rule == nil || inSecret || !w.Rule.Match(k) {
		return false
	}
	w.Secrets++
	return true
}

// walk measures v (adding nothing to dst) or appends it to dst.
func (w *Walker) walk(dst []byte, v any, depth int, inSecret bool) ([]byte, int, error) {
	if depth > MaxDepth {
		return dst, 0, problem(fmt.Sprintf("nested deeper than %d levels (a cycle?)", MaxDepth))
	}
	switch x := v.(type) {
	case nil:
		return w.raw(dst, "null", 4)
	case string:
		if w.encode {
			return AppendString(dst, x), 0, nil
		}
		return dst, len(x) + 2, nil
	case bool:
		if w.encode {
			return strconv.AppendBool(dst, x), 0, nil
		}
		return dst, 5, nil
	case int:
		return w.int(dst, int64(x))
	case int64:
		return w.int(dst, x)
	case int32:
		return w.int(dst, int64(x))
	case int16:
		return w.int(dst, int64(x))
	case int8:
		return w.int(dst, int64(x))
	case uint:
		return w.uint(dst, uint64(x))
	case uint64:
		return w.uint(dst, x)
	case uint32:
		return w.uint(dst, uint64(x))
	case uint16:
		return w.uint(dst, uint64(x))
	case uint8:
		return w.uint(dst, uint64(x))
	case uintptr:
		return w.uint(dst, uint64(x))
	case float64:
		return w.float(dst, x, 64)
	case float32:
		return w.float(dst, float64(x), 32)
	case stdjson.Number:
		if x != "" && !isNumber(string(x)) {
			return dst, 0, problem("json.Number that is not a JSON number")
		}
		if !w.encode {
			return dst, len(x), nil
		}
		if x == "" {
			return append(dst, '0'), 0, nil
		}
		return append(dst, x...), 0, nil
	case time.Time:
		if err := checkYear(x); err != nil {
			return dst, 0, problem("time.Time " + err.Error())
		}
		if w.encode {
			return appendTime(dst, x), 0, nil
		}
		return dst, 32, nil
	case time.Duration:
		if w.encode {
			return strconv.AppendInt(dst, int64(x), 10), 0, nil
		}
		return dst, 32, nil
	case []byte:
		if w.encode {
			return appendMarshal(dst, x)
		}
		return dst, len(x)*4/3 + 4, nil
	case []string:
		if w.encode {
			return appendStrings(dst, x), 0, nil
		}
		n := 2
		for _, s := range x {
			n += len(s) + 3
		}
		return dst, n, nil
	case map[string]string:
		if w.encode {
			return AppendStringMap(dst, x), 0, nil
		}
		n := 2
		for k, s := range x {
			n += len(k) + len(s) + 6
			w.countSecret(k, inSecret)
		}
		return dst, n, nil
	case []any:
		if w.encode {
			return w.appendSlice(dst, x, depth)
		}
		n := 2
		for i, e := range x {
			_, m, err := w.walk(nil, e, depth+1, inSecret)
			if err != nil {
				return dst, 0, withKey(err, "["+strconv.Itoa(i)+"]")
			}
			n += m + 1
		}
		return dst, n, nil
	case map[string]any:
		if w.encode {
			if x == nil {
				return append(dst, "null"...), 0, nil
			}
			return w.appendEntries(dst, x, depth+1)
		}
		n, err := w.measureEntries(x, depth+1, inSecret)
		return dst, n, err
	case complex64, complex128:
		return dst, 0, problem("complex number")
	case stdjson.Marshaler, encoding.TextMarshaler:
		return w.selfEncoded(dst, x)
	}
	if w.encode {
		// The walker refuses what it refuses, in its own words; what it
		// accepts, encoding/json writes.
		m := Walker{}
		if _, err := m.reflect(reflect.ValueOf(v), depth, false); err != nil {
			return dst, 0, err
		}
		return appendMarshal(dst, v)
	}
	n, err := w.reflect(reflect.ValueOf(v), depth, inSecret)
	return dst, n, err
}

func (w *Walker) raw(dst []byte, s string, size int) ([]byte, int, error) {
	if w.encode {
		return append(dst, s...), 0, nil
	}
	return dst, size, nil
}

func (w *Walker) int(dst []byte, i int64) ([]byte, int, error) {
	if w.encode {
		return strconv.AppendInt(dst, i, 10), 0, nil
	}
	return dst, 20, nil
}

func (w *Walker) uint(dst []byte, u uint64) ([]byte, int, error) {
	if w.encode {
		return strconv.AppendUint(dst, u, 10), 0, nil
	}
	return dst, 20, nil
}

func (w *Walker) float(dst []byte, f float64, bits int) ([]byte, int, error) {
	if w.encode {
		out, err := appendFloat(dst, f, bits)
		return out, 0, err
	}
	if err := checkFloat(f); err != nil {
		return dst, 0, err
	}
	return dst, 24, nil
}

// selfEncoded encodes a value that encodes itself (MarshalJSON or
// MarshalText), measuring or writing it.
func (w *Walker) selfEncoded(dst []byte, v any) ([]byte, int, error) {
	b, err := marshalRecovering(v)
	if err != nil {
		return dst, 0, marshalProblem(v, err)
	}
	if w.encode {
		return append(dst, b...), 0, nil
	}
	return dst, len(b), nil
}

// appendSlice writes a []any.
func (w *Walker) appendSlice(dst []byte, s []any, depth int) ([]byte, int, error) {
	if s == nil {
		return append(dst, "null"...), 0, nil
	}
	dst = append(dst, '[')
	var err error
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, _, err = w.walk(dst, v, depth+1, false); err != nil {
			return dst, 0, withKey(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return append(dst, ']'), 0, nil
}

// appendEntries writes a non-nil map as an object, keys sorted; its values
// are at depth.
func (w *Walker) appendEntries(dst []byte, m map[string]any, depth int) ([]byte, int, error) {
	// Sorted on this stack frame when small.
	var buf [smallMap]entry[any]
	var entries []entry[any]
	if len(m) <= smallMap {
		entries = sortSmall(m, &buf)
	} else {
		entries = sortLarge(m)
	}
	dst = append(dst, '{')
	var err error
	for i, kv := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, kv.k)
		dst = append(dst, ':')
		if dst, _, err = w.walk(dst, kv.v, depth, false); err != nil {
			return dst, 0, withKey(err, kv.k)
		}
	}
	return append(dst, '}'), 0, nil
}

var (
	marshalerType     = reflect.TypeFor[stdjson.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// reflect measures a value of a type the type switch does not know.
func (w *Walker) reflect(v reflect.Value, depth int, inSecret bool) (int, error) {
	if depth > MaxDepth {
		return 0, problem(fmt.Sprintf("nested deeper than %d levels (a cycle?)", MaxDepth))
	}
	if !v.IsValid() {
		return 4, nil
	}
	t := v.Type()
	if (t.Implements(marshalerType) || t.Implements(textMarshalerType)) && v.CanInterface() {
		_, n, err := w.selfEncoded(nil, v.Interface())
		return n, err
	}
	switch v.Kind() {
	case reflect.Bool:
		return 5, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return 20, nil
	case reflect.Float32, reflect.Float64:
		if err := checkFloat(v.Float()); err != nil {
			return 0, err
		}
		return 24, nil
	case reflect.String:
		return v.Len() + 2, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 4, nil
		}
		return w.reflect(v.Elem(), depth+1, inSecret)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return 4, nil
		}
		n := 2
		for i := 0; i < v.Len(); i++ {
			m, err := w.reflect(v.Index(i), depth+1, inSecret)
			if err != nil {
				return 0, err
			}
			n += m + 1
		}
		return n, nil
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !t.Key().Implements(textMarshalerType) {
				return 0, problem(fmt.Sprintf("map with %s keys", t.Key()))
			}
		}
		n := 2
		it := v.MapRange()
		for it.Next() {
			secret := it.Key().Kind() == reflect.String && w.countSecret(it.Key().String(), inSecret)
			m, err := w.reflect(it.Value(), depth+1, inSecret || secret)
			if err != nil {
				return 0, err
			}
			n += 24 + m
		}
		return n, nil
	case reflect.Struct:
		n := 2
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, ok := fieldName(f)
			if !ok {
				continue
			}
			secret := w.countSecret(name, inSecret)
			m, err := w.reflect(v.Field(i), depth+1, inSecret || secret)
			if err != nil {
				return 0, err
			}
			n += len(name) + 4 + m
		}
		return n, nil
	}
	return 0, problem(fmt.Sprintf("%s value", t))
}

// fieldName returns the name encoding/json gives a struct field, and false
// for a field it leaves out.
func fieldName(f reflect.StructField) (string, bool) {
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
