package tracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var lineTS = time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC)

func TestAppendEventLineGolden(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	cases := []struct {
		name string
		e    Event
		want string
	}{
		{
			name: "design example",
			e: Event{
				UUID: "0190f3c4-0000-7000-8000-000000000001", Name: "query_initiated", DistinctID: "org_42",
				Timestamp:  lineTS,
				Groups:     map[string]string{"organization": "org_42"},
				Properties: map[string]any{"user": "alice", "trace_id": "4bf92f35", PropSampleRate: 0.01},
			},
			want: `{"uuid":"0190f3c4-0000-7000-8000-000000000001","event":"query_initiated","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"$sample_rate":0.01,"trace_id":"4bf92f35","user":"alice"}}`,
		},
		{
			name: "no groups, no properties, local time converted to UTC",
			e:    Event{UUID: "u", Name: "e", DistinctID: "d", Timestamp: time.Date(2026, 11, 28, 11, 0, 0, 0, time.FixedZone("CET", 3600))},
			want: `{"uuid":"u","event":"e","distinct_id":"d","timestamp":"2026-11-28T10:00:00.000000Z","properties":{}}`,
		},
		{
			name: "number kinds",
			e: Event{Name: "n", Timestamp: lineTS, Properties: map[string]any{
				"i": -7, "i8": int8(-8), "i16": int16(16), "i32": int32(32), "i64": int64(math.MinInt64),
				"u": uint(1), "u8": uint8(255), "u16": uint16(16), "u32": uint32(32), "u64": uint64(math.MaxUint64),
				"f": 1.5, "fint": 3.0, "fneg0": math.Copysign(0, -1), "fbig": 1e21, "fsmall": 1e-7, "f32": float32(0.1),
				"num": json.Number("12.50"),
			}},
			want: `{"uuid":"","event":"n","distinct_id":"","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"f":1.5,"f32":0.1,"fbig":1e+21,"fint":3.0,"fneg0":-0.0,"fsmall":1e-7,"i":-7,"i16":16,"i32":32,"i64":-9223372036854775808,"i8":-8,"num":12.50,"u":1,"u16":16,"u32":32,"u64":18446744073709551615,"u8":255}}`,
		},
		{
			name: "strings need escaping",
			e: Event{Name: "quote\"back\\slash", Timestamp: lineTS, Properties: map[string]any{
				"ctl":     "a\x00b\x1fc\n\r\t\b\f",
				"invalid": "ok\xffok\xc3",
				"js":      "line\u2028para\u2029",
				"html":    "<a href='x'>&</a>",
				"utf8":    "héllo, 世界 🎉",
				"ke\"y":   "v",
			}},
			want: `{"uuid":"","event":"quote\"back\\slash","distinct_id":"","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"ctl":"a\u0000b\u001fc\n\r\t\b\f","html":"<a href='x'>&</a>","invalid":"ok\ufffdok\ufffd","js":"line\u2028para\u2029","ke\"y":"v","utf8":"héllo, 世界 🎉"}}`,
		},
		{
			name: "containers, nil, time, fallback types",
			e: Event{Name: "c", Timestamp: lineTS, Properties: map[string]any{
				"nil":     nil,
				"list":    []any{1, "two", []any{}, map[string]any{}, nil},
				"strs":    []string{"b", "a"},
				"nilstrs": []string(nil),
				"smap":    map[string]string{"z": "1", "a": "2"},
				"nested":  map[string]any{"b": map[string]any{"c": true}, "a": false},
				"nilmap":  map[string]any(nil),
				"when":    time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
				"ints":    []int{1, 2},
				"struct":  point{X: 3},
				"ptr":     &point{X: 4},
				"bytes":   []byte("hi"),
				"dur":     time.Second,
			}},
			want: `{"uuid":"","event":"c","distinct_id":"","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"bytes":"aGk=","dur":1000000000,"ints":[1,2],"list":[1,"two",[],{},null],"nested":{"a":false,"b":{"c":true}},"nil":null,"nilmap":null,"nilstrs":null,"ptr":{"x":4},"smap":{"a":"2","z":"1"},"strs":["b","a"],"struct":{"x":3},"when":"2026-01-02T03:04:05.000000006Z"}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendEventLine([]byte("prefix "), &tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if want := "prefix " + tc.want + "\n"; string(got) != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			if !json.Valid(got[len("prefix "):]) {
				t.Fatal("output is not valid JSON")
			}
		})
	}
}

func TestAppendEventLineErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	loop := make([]any, 1)
	loop[0] = loop
	deep := map[string]any{}
	for i, cur := 0, deep; i < lineMaxDepth+1; i++ {
		next := map[string]any{}
		cur["d"] = next
		cur = next
	}
	cases := []struct {
		name    string
		e       Event
		field   string
		key     string
		problem string
	}{
		{"NaN", Event{Properties: map[string]any{"latency": math.NaN()}}, "properties", "latency", "NaN"},
		{"+Inf", Event{Properties: map[string]any{"x": math.Inf(1)}}, "properties", "x", "+Inf"},
		{"float32 -Inf", Event{Properties: map[string]any{"x": float32(math.Inf(-1))}}, "properties", "x", "-Inf"},
		{"func", Event{Properties: map[string]any{"cb": func() {}}}, "properties", "cb", "func value"},
		{"chan", Event{Properties: map[string]any{"ch": make(chan int)}}, "properties", "ch", "chan value"},
		{"complex", Event{Properties: map[string]any{"z": complex(1, 2)}}, "properties", "z", "complex number"},
		{"nested path", Event{Properties: map[string]any{"a": map[string]any{"b": []any{1, math.NaN()}}}}, "properties", "a.b[1]", "NaN"},
		{"slice path", Event{Properties: map[string]any{"a": []any{map[string]any{"f": func() {}}}}}, "properties", "a[0].f", "func value"},
		{"map cycle", Event{Properties: map[string]any{"m": cyclic}}, "properties", "m" + strings.Repeat(".self", lineCycleDepth), "cycle"},
		{"slice cycle", Event{Properties: map[string]any{"s": loop}}, "properties", "s" + strings.Repeat("[0]", lineCycleDepth), "cycle"},
		{"too deep", Event{Properties: map[string]any{"deep": deep}}, "properties", "deep" + strings.Repeat(".d", lineMaxDepth-1), "nested more than 5000 levels deep"},
		{"fallback NaN", Event{Properties: map[string]any{"fs": []float64{math.NaN()}}}, "properties", "fs", "NaN"},
		{"fallback func in struct", Event{Properties: map[string]any{"s": struct{ F func() }{}}}, "properties", "s", "func() value"},
		{"property time year", Event{Properties: map[string]any{"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, "properties", "t", "time.Time year 10000 outside 0–9999"},
		{"failing MarshalJSON", Event{Properties: map[string]any{"m": secretMarshaler{}}}, "properties", "m", "tracker.secretMarshaler: its MarshalJSON or MarshalText method failed"},
		{"bad json.Number", Event{Properties: map[string]any{"n": json.Number("0x1F")}}, "properties", "n", "json.Number that is not a JSON number"},
		{"timestamp year", Event{Timestamp: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, "timestamp", "", "year -1 outside 0–9999"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Name = "e"
			dst := []byte("keep")
			got, err := AppendEventLine(dst, &tc.e)
			if err == nil {
				t.Fatalf("no error; wrote %.200s", got)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed on error: %.100q", got)
			}
			if !errors.Is(err, ErrUnencodable) {
				t.Errorf("errors.Is(%v, ErrUnencodable) = false", err)
			}
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("%T is not an *EncodeError", err)
			}
			if ee.Field != tc.field || ee.Key != tc.key || ee.Problem != tc.problem {
				t.Errorf("got field %q key %.80q problem %q, want %q %.80q %q", ee.Field, ee.Key, ee.Problem, tc.field, tc.key, tc.problem)
			}
		})
	}
}

func TestAppendEventLineTooLong(t *testing.T) {
	small, err := AppendEventLine(nil, &Event{Name: "e", Properties: map[string]any{"big": ""}})
	if err != nil {
		t.Fatal(err)
	}
	// The largest line that fits, then one byte more.
	fits := Event{Name: "e", Properties: map[string]any{"big": strings.Repeat("x", MaxEventLine-len(small))}}
	if line, err := AppendEventLine(nil, &fits); err != nil || len(line) != MaxEventLine {
		t.Fatalf("line of %d bytes: %v", len(line), err)
	}
	over := Event{Name: "e", Properties: map[string]any{"big": strings.Repeat("x", MaxEventLine-len(small)+1)}}
	got, err := AppendEventLine([]byte("keep"), &over)
	if !errors.Is(err, ErrLineTooLong) || string(got) != "keep" {
		t.Fatalf("got %d bytes, %v; want dst unchanged and ErrLineTooLong", len(got), err)
	}
	if want := fmt.Sprintf("event line of %d bytes: line longer than 1048576 bytes", MaxEventLine+1); err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

// secretMarshaler fails with an error that quotes its value, which must not
// reach an error message.
type secretMarshaler struct{}

func (secretMarshaler) MarshalJSON() ([]byte, error) {
	return nil, errors.New("cannot encode hunter2")
}

func TestEncodeErrorMessage(t *testing.T) {
	e := Event{Name: "e", Properties: map[string]any{"password_hint": math.NaN(), "ok": "secret value"}}
	_, err := AppendEventLine(nil, &e)
	if want := `property "password_hint": NaN: not JSON-encodable`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestAppendEventLineMatchesEncodingJSON checks the hand-written appender
// against encoding/json on random values: both outputs must decode to the
// same value.
func TestAppendEventLineMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		props := randomProps(rng, 0, true)
		e := Event{Name: randomString(rng), DistinctID: randomString(rng), UUID: randomString(rng), Timestamp: lineTS, Properties: props}
		line, err := AppendEventLine(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(line) || !json.Valid(line) {
			t.Fatalf("invalid output %q", line)
		}
		var mine struct {
			Event      string         `json:"event"`
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(line, &mine); err != nil {
			t.Fatal(err)
		}
		ref, err := json.Marshal(struct {
			Event      string         `json:"event"`
			Properties map[string]any `json:"properties"`
		}{e.Name, props})
		if err != nil {
			t.Fatal(err)
		}
		var theirs struct {
			Event      string         `json:"event"`
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(ref, &theirs); err != nil {
			t.Fatal(err)
		}
		if theirs.Properties == nil {
			theirs.Properties = map[string]any{}
		}
		if !reflect.DeepEqual(mine, theirs) {
			t.Fatalf("differs from encoding/json\nmine:   %s\ntheirs: %s", line, ref)
		}
	}
}

// TestEventLineRoundTrip is the round-trip property: a random event in the
// reader's normal form (int64, float64, string, bool, nil, map[string]any,
// []any) comes back equal.
func TestEventLineRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	for i := 0; i < 3000; i++ {
		e := randomEvent(rng)
		var err error
		buf, err = AppendEventLine(buf[:0], &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseEventLine(buf)
		if err != nil {
			t.Fatalf("%v\nline: %s", err, buf)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip differs\nwant %#v\ngot  %#v\nline %s", e, got, buf)
		}
	}
}

func randomEvent(rng *rand.Rand) Event {
	e := Event{
		Name:       randomString(rng) + "x",
		DistinctID: randomString(rng),
		UUID:       formatUUIDv7(lineTS, uint16(rng.Uint32()), newUUIDRandom()),
		Timestamp:  time.UnixMicro(rng.Int64N(1 << 52)).UTC(),
		Properties: randomProps(rng, 0, false),
	}
	if rng.IntN(2) == 0 {
		e.Groups = map[string]string{GroupOrganization: randomString(rng), randomString(rng): randomString(rng)}
	}
	return e
}

// randomProps returns nil or a random property map. With anyKind it uses
// every Go kind the appender handles; otherwise only the reader's normal
// form.
func randomProps(rng *rand.Rand, depth int, anyKind bool) map[string]any {
	n := rng.IntN(7)
	if n == 0 {
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		m[randomString(rng)] = randomValue(rng, depth, anyKind)
	}
	return m
}

func randomValue(rng *rand.Rand, depth int, anyKind bool) any {
	kinds := 9
	if anyKind {
		kinds = 16
	}
	if depth > 3 {
		kinds = 5
	}
	switch rng.IntN(kinds) {
	case 0:
		return randomString(rng)
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return int64(rng.Uint64())
	case 3:
		return randomFloat(rng)
	case 4:
		return nil
	case 5, 6:
		if m := randomProps(rng, depth+1, anyKind); m != nil {
			return m
		}
		return randomString(rng)
	case 7, 8:
		s := make([]any, rng.IntN(4))
		for i := range s {
			s[i] = randomValue(rng, depth+1, anyKind)
		}
		return s
	case 9:
		return float32(randomFloat(rng))
	case 10:
		return uint64(rng.Uint64())
	case 11:
		return int8(rng.Uint32())
	case 12:
		return []string{randomString(rng), randomString(rng)}
	case 13:
		return map[string]string{randomString(rng): randomString(rng)}
	case 14:
		return time.Unix(0, rng.Int64()).UTC()
	default:
		return json.Number(fmt.Sprint(rng.IntN(1000)))
	}
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(4) {
	case 0:
		return float64(rng.IntN(2000) - 1000) // integral: must stay a float
	case 1:
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30))
	case 2:
		return math.Float64frombits(rng.Uint64() &^ (0x7ff << 52)) // tiny and subnormal
	default:
		return rng.Float64()
	}
}

// randomString mixes ASCII, escapes, multi-byte runes and JavaScript line
// terminators; always valid UTF-8 (invalid bytes cannot round-trip).
func randomString(rng *rand.Rand) string {
	const alphabet = "abcXYZ019 _-$\"\\/\n\t\x00\x1f<>&é世🎉\u2028\u2029\ufffd"
	runes := []rune(alphabet)
	n := rng.IntN(12)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func TestParseEventLineNumbers(t *testing.T) {
	line := `{"event":"n","properties":{"i":42,"neg":-1,"big":9223372036854775808,"huge":18446744073709551616,"f":1.0,"e":1e3,"max":9223372036854775807,"nested":{"a":[1,2.5]}}}`
	e, err := ParseEventLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i": int64(42), "neg": int64(-1), "big": uint64(9223372036854775808), "huge": 18446744073709551616.0, "f": 1.0, "e": 1000.0,
		"max": int64(math.MaxInt64), "nested": map[string]any{"a": []any{int64(1), 2.5}},
	}
	if !reflect.DeepEqual(e.Properties, want) {
		t.Fatalf("got %#v\nwant %#v", e.Properties, want)
	}
}

func TestParseEventLineRejects(t *testing.T) {
	cases := []struct{ name, line, want string }{
		{"not JSON", `{"event":`, "not a JSON object: unexpected end of JSON input"},
		{"trailing data", `{"event":"a"} x`, "not a JSON object: invalid character 'x' after top-level value"},
		{"array", `[1]`, "not an event line: json: cannot unmarshal array into Go value of type tracker.lineWire"},
		{"no event", `{"uuid":"u"}`, `not an event line: no "event" name`},
		{"empty event", `{"event":""}`, `not an event line: no "event" name`},
		{"bad timestamp", `{"event":"a","timestamp":"yesterday"}`, `timestamp "yesterday" is not RFC 3339`},
		{"timestamp past 9999 in UTC", `{"event":"a","timestamp":"9999-12-31T23:30:00-01:00"}`, `timestamp "9999-12-31T23:30:00-01:00" is outside years 0–9999 in UTC`},
		{"group not a string", `{"event":"a","groups":{"organization":1}}`, "not an event line: json: cannot unmarshal number into Go struct field lineWire.groups of type string"},
		{"number out of range", `{"event":"a","properties":{"x":1e999}}`, `property "x": number 1e999 out of range`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEventLine([]byte(tc.line))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestParseEventLineTimestampZones(t *testing.T) {
	e, err := ParseEventLine([]byte(`{"event":"a","timestamp":"2026-11-28T11:15:03.123456789+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC); !e.Timestamp.Equal(want) || e.Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp %v, want %v in UTC", e.Timestamp, want)
	}
	e, err = ParseEventLine([]byte(`{"event":"a"}`))
	if err != nil || !e.Timestamp.IsZero() || e.Properties != nil || e.Groups != nil {
		t.Fatalf("minimal line: %#v, %v", e, err)
	}
}

func TestAppendEventLineAllocs(t *testing.T) {
	e := benchEvent()
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = AppendEventLine(buf[:0], &e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendEventLine allocates %.1f times per event, want 0", allocs)
	}
}

// benchEvent is the 5-property event of the benchmarks.
func benchEvent() Event {
	return Event{
		UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f", Name: "query_initiated", DistinctID: "org_42",
		Timestamp: lineTS,
		Groups:    map[string]string{GroupOrganization: "org_42"},
		Properties: map[string]any{
			"user":        "alice",
			"trace_id":    "4bf92f3577b34da6a3ce929d0e0e4736",
			"duration_ms": 12.5,
			"rows":        1042,
			"cached":      false,
		},
	}
}

func BenchmarkEncodeEventLine(b *testing.B) {
	e := benchEvent()
	b.Run("AppendEventLine", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			var err error
			if buf, err = AppendEventLine(buf[:0], &e); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		type wire struct {
			UUID       string            `json:"uuid"`
			Event      string            `json:"event"`
			DistinctID string            `json:"distinct_id"`
			Timestamp  time.Time         `json:"timestamp"`
			Groups     map[string]string `json:"groups,omitempty"`
			Properties map[string]any    `json:"properties"`
		}
		var n int
		for b.Loop() {
			out, err := json.Marshal(wire{e.UUID, e.Name, e.DistinctID, e.Timestamp, e.Groups, e.Properties})
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n + 1))
	})
}

// TestAppendJSONStringEveryByte puts every byte value at every offset of
// strings of every length up to 24 (through the 4- and 8-byte tests and
// their overlapping tails) and compares with encoding/json (HTML escaping
// off).
func TestAppendJSONStringEveryByte(t *testing.T) {
	const plain = "abcdefghijklmnopqrstuvwx"
	for n := 1; n <= len(plain); n++ {
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				b := []byte(plain[:n])
				b[at] = byte(c)
				s := string(b)
				var want strings.Builder
				enc := json.NewEncoder(&want)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(s); err != nil {
					t.Fatal(err)
				}
				if got := string(appendJSONString(nil, s)) + "\n"; got != want.String() {
					t.Fatalf("byte %#x at %d of %d: got %s want %s", c, at, n, got, want.String())
				}
			}
		}
	}
	for n := 0; n <= len(plain); n++ {
		if got := string(appendJSONString(nil, plain[:n])); got != `"`+plain[:n]+`"` {
			t.Fatalf("plain %q: got %s", plain[:n], got)
		}
	}
}

// TestAppendJSONFloatMatchesStrconv: the short-decimal fast path writes
// what strconv's shortest formatting writes (plus ".0" on integers).
func TestAppendJSONFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(f float64) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return
		}
		got, err := appendJSONFloat(nil, f, 64)
		if err != nil {
			t.Fatal(err)
		}
		want := strconv.FormatFloat(f, 'f', -1, 64)
		if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			return // exponent form, strconv's path
		}
		if !strings.Contains(want, ".") {
			want += ".0"
		}
		if string(got) != want {
			t.Fatalf("%v (%#x): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
	for _, f := range []float64{0.1, 0.2, 0.3, 0.1 + 0.2, 12.5, -12.5, 0.000001, 0.0000015, 1e-7, 999999999999999, 1e15, 1e15 - 0.5, 123456.789, 4503599627370495.5, math.Copysign(0, -1), 1, -1, 0.05, 100.001} {
		check(f)
	}
	for range 200000 {
		digits := rng.IntN(7)
		check(float64(rng.Int64N(2e15)-1e15) / math.Pow(10, float64(digits)))
		check(math.Float64frombits(rng.Uint64()))
		check(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-10)))
	}
}

// FuzzAppendEventLine checks the appender against encoding/json on arbitrary
// strings (keys, values, names, with invalid UTF-8) and floats: the line is
// valid JSON, and decodes to what encoding/json's encoding decodes to.
func FuzzAppendEventLine(f *testing.F) {
	f.Add("user", "alice", "query_initiated", 12.5)
	f.Add("k\"\\\x00", "\xff\xfe\u2028<&>", "é世🎉", 1e-7)
	f.Add("", "", "x", math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, key, value, name string, num float64) {
		if math.IsNaN(num) || math.IsInf(num, 0) {
			return
		}
		props := map[string]any{key: value, key + "#n": num, key + "#l": []any{value, num}}
		e := Event{Name: name, DistinctID: value, UUID: key, Timestamp: lineTS, Groups: map[string]string{key: value}, Properties: props}
		line, err := AppendEventLine(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(line) || !utf8.Valid(line) || line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("not one valid JSON line: %q", line)
		}
		type wire struct {
			UUID       string            `json:"uuid"`
			Event      string            `json:"event"`
			DistinctID string            `json:"distinct_id"`
			Groups     map[string]string `json:"groups"`
			Properties map[string]any    `json:"properties"`
		}
		var mine, theirs wire
		if err := json.Unmarshal(line, &mine); err != nil {
			t.Fatal(err)
		}
		ref, err := json.Marshal(wire{e.UUID, e.Name, e.DistinctID, e.Groups, props})
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ref, &theirs); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(mine, theirs) {
			t.Fatalf("differs from encoding/json\nmine:   %s\ntheirs: %s", line, ref)
		}
	})
}
