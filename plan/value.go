package plan

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	ijson "github.com/multitrack/multitrack/internal/json"
)

// jsonType is the JSON type a Go value encodes as.
type jsonType uint8

const (
	jUnknown jsonType = iota // cannot be encoded (the tracker rejects such events)
	jNull
	jString
	jBool
	jInt   // a number without a fractional part
	jFloat // a number with one
	jObject
	jArray
)

// value is a property value as JSON sees it.
type value struct {
	t      jsonType
	s      string    // jString
	i      int64     // jInt, when exact
	f      float64   // jInt and jFloat
	exact  bool      // jInt: i holds the value (it fits an int64)
	n      int       // jArray: the number of elements
	isTime bool      // a time.Time, which encodes as an RFC 3339 string
	tm     time.Time // when isTime
}

// text returns a string value's text (a time's as it is encoded).
func (v value) text() string {
	if v.isTime {
		return v.tm.Format(time.RFC3339Nano)
	}
	return v.s
}

// describe names v's type for a message, never its value.
func (v value) describe() string {
	switch v.t {
	case jNull:
		return "null"
	case jString:
		if v.isTime {
			return "a timestamp"
		}
		return "a string"
	case jBool:
		return "a boolean"
	case jInt:
		return "an integer"
	case jFloat:
		return "a number with a fractional part"
	case jObject:
		return "an object"
	case jArray:
		return "an array"
	}
	return "a value JSON cannot encode"
}

// valueOf classifies x by the JSON it encodes as. The types the tracker and
// the event-line reader produce are handled without allocating; others go
// through reflection.
func valueOf(x any) value {
	switch v := x.(type) {
	case nil:
		return value{t: jNull}
	case string:
		return value{t: jString, s: v}
	case bool:
		return value{t: jBool}
	case int:
		return intValue(int64(v))
	case int64:
		return intValue(v)
	case int32:
		return intValue(int64(v))
	case int16:
		return intValue(int64(v))
	case int8:
		return intValue(int64(v))
	case uint:
		return uintValue(uint64(v))
	case uint64:
		return uintValue(v)
	case uint32:
		return intValue(int64(v))
	case uint16:
		return intValue(int64(v))
	case uint8:
		return intValue(int64(v))
	case float64:
		return floatValue(v)
	case float32:
		return floatValue(float64(v))
	case json.Number:
		return numberValue(string(v))
	case time.Time:
		return value{t: jString, isTime: true, tm: v}
	case map[string]any:
		return value{t: jObject, n: len(v)}
	case map[string]string:
		return value{t: jObject, n: len(v)}
	case []any:
		return value{t: jArray, n: len(v)}
	case []string:
		return value{t: jArray, n: len(v)}
	}
	return reflectValue(x, 0)
}

func intValue(n int64) value { return value{t: jInt, i: n, f: float64(n), exact: true} }

func uintValue(n uint64) value {
	if n <= math.MaxInt64 {
		return intValue(int64(n))
	}
	return value{t: jInt, f: float64(n)}
}

// floatValue: a float64 with no fractional part encodes as an integer, and
// reads back as one; NaN and infinities cannot be encoded.
func floatValue(f float64) value {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return value{}
	case f == math.Trunc(f):
		if f >= -(1<<63) && f < 1<<63 {
			return value{t: jInt, i: int64(f), f: f, exact: true}
		}
		return value{t: jInt, f: f}
	}
	return value{t: jFloat, f: f}
}

// numberValue classifies the text of a JSON number.
func numberValue(s string) value {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intValue(n)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeError(err) {
		return value{}
	}
	return floatValue(f)
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// reflectValue classifies the values of other types as encoding/json
// would encode them.
func reflectValue(x any, depth int) value {
	if depth > ijson.MaxDepth {
		return value{}
	}
	switch x.(type) {
	case json.Marshaler, encoding.TextMarshaler:
		g, err := ijson.Generic(x)
		if err != nil {
			return value{}
		}
		return valueOf(g)
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return value{t: jNull}
		}
		return reflectValue(rv.Elem().Interface(), depth+1)
	case reflect.String:
		return value{t: jString, s: rv.String()}
	case reflect.Bool:
		return value{t: jBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intValue(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintValue(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return floatValue(rv.Float())
	case reflect.Map:
		if rv.IsNil() {
			return value{t: jNull}
		}
		return value{t: jObject, n: rv.Len()}
	case reflect.Struct:
		return value{t: jObject}
	case reflect.Slice:
		if rv.IsNil() {
			return value{t: jNull}
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return value{t: jString, s: base64.StdEncoding.EncodeToString(rv.Bytes())}
		}
		return value{t: jArray, n: rv.Len()}
	case reflect.Array:
		return value{t: jArray, n: rv.Len()}
	}
	return value{}
}
