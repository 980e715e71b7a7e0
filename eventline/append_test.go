package eventline

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/line"
	"github.com/multitrack/multitrack/tracker"
)

var lineTS = time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC)

func TestAppendGolden(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	cases := []struct {
		name string
		e    tracker.Event
		want string
	}{
		{
			name: "design example",
			e: tracker.Event{
				UUID: "0190f3c4-0000-7000-8000-000000000001", Name: "query_initiated", DistinctID: "org_42",
				Timestamp:  lineTS,
				Groups:     map[string]string{"organization": "org_42"},
				Properties: map[string]any{"user": "alice", "trace_id": "4bf92f35", tracker.PropSampleRate: 0.01},
			},
			want: `{"uuid":"0190f3c4-0000-7000-8000-000000000001","event":"query_initiated","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"$sample_rate":0.01,"trace_id":"4bf92f35","user":"alice"}}`,
		},
		{
			name: "groups sorted, the organization among others; one group that is not the organization",
			e: tracker.Event{UUID: "u", Name: "e", DistinctID: "d", Timestamp: lineTS,
				Groups:     map[string]string{"team": "t\"1", "organization": "org_42", "account": "a"},
				Properties: map[string]any{"b": 1, "a": 2, "ab": 3, "": 4, "B": 5}},
			want: `{"uuid":"u","event":"e","distinct_id":"d","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"account":"a","organization":"org_42","team":"t\"1"},"properties":{"":4,"B":5,"a":2,"ab":3,"b":1}}`,
		},
		{
			name: "a single group that is not the organization",
			e:    tracker.Event{UUID: "u", Name: "e", DistinctID: "d", Timestamp: lineTS, Groups: map[string]string{"project": "p\n"}},
			want: `{"uuid":"u","event":"e","distinct_id":"d","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"project":"p\n"},"properties":{}}`,
		},
		{
			name: "no groups, no properties, local time converted to UTC",
			e:    tracker.Event{UUID: "u", Name: "e", DistinctID: "d", Timestamp: time.Date(2026, 11, 28, 11, 0, 0, 0, time.FixedZone("CET", 3600))},
			want: `{"uuid":"u","event":"e","distinct_id":"d","timestamp":"2026-11-28T10:00:00.000000Z","properties":{}}`,
		},
		{
			name: "number kinds",
			e: tracker.Event{Name: "n", Timestamp: lineTS, Properties: map[string]any{
				"i": -7, "i8": int8(-8), "i16": int16(16), "i32": int32(32), "i64": int64(math.MinInt64),
				"u": uint(1), "u8": uint8(255), "u16": uint16(16), "u32": uint32(32), "u64": uint64(math.MaxUint64),
				"f": 1.5, "fint": 3.0, "fneg0": math.Copysign(0, -1), "fbig": 1e21, "fsmall": 1e-7, "f32": float32(0.1),
				"num": stdjson.Number("12.50"),
			}},
			want: `{"uuid":"","event":"n","distinct_id":"","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"f":1.5,"f32":0.1,"fbig":1e+21,"fint":3.0,"fneg0":-0.0,"fsmall":1e-7,"i":-7,"i16":16,"i32":32,"i64":-9223372036854775808,"i8":-8,"num":12.50,"u":1,"u16":16,"u32":32,"u64":18446744073709551615,"u8":255}}`,
		},
		{
			name: "strings need escaping",
			e: tracker.Event{Name: "quote\"back\\slash", Timestamp: lineTS, Properties: map[string]any{
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
			e: tracker.Event{Name: "c", Timestamp: lineTS, Properties: map[string]any{
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
			got, err := Append([]byte("prefix "), &tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if want := "prefix " + tc.want + "\n"; string(got) != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			if !stdjson.Valid(got[len("prefix "):]) {
				t.Fatal("output is not valid JSON")
			}
		})
	}
}

func TestAppendRefusesWhatJSONCannotCarry(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	loop := make([]any, 1)
	loop[0] = loop
	deep := map[string]any{}
	for i, cur := 0, deep; i < json.MaxDepth+8; i++ {
		next := map[string]any{}
		cur["d"] = next
		cur = next
	}
	tooDeep := fmt.Sprintf("nested deeper than %d levels (a cycle?)", json.MaxDepth)
	cases := []struct {
		name    string
		e       tracker.Event
		key     string
		problem string
	}{
		{"NaN", tracker.Event{Properties: map[string]any{"latency": math.NaN()}}, "latency", "NaN"},
		{"+Inf", tracker.Event{Properties: map[string]any{"x": math.Inf(1)}}, "x", "+Inf"},
		{"float32 -Inf", tracker.Event{Properties: map[string]any{"x": float32(math.Inf(-1))}}, "x", "-Inf"},
		{"func", tracker.Event{Properties: map[string]any{"cb": func() {}}}, "cb", "func() value"},
		{"chan", tracker.Event{Properties: map[string]any{"ch": make(chan int)}}, "ch", "chan int value"},
		{"complex", tracker.Event{Properties: map[string]any{"z": complex(1, 2)}}, "z", "complex number"},
		{"nested path", tracker.Event{Properties: map[string]any{"a": map[string]any{"b": []any{1, math.NaN()}}}}, "a.b[1]", "NaN"},
		{"slice path", tracker.Event{Properties: map[string]any{"a": []any{map[string]any{"f": func() {}}}}}, "a[0].f", "func() value"},
		{"map cycle", tracker.Event{Properties: map[string]any{"m": cyclic}}, "m" + strings.Repeat(".self", json.MaxDepth+1), tooDeep},
		{"slice cycle", tracker.Event{Properties: map[string]any{"s": loop}}, "s" + strings.Repeat("[0]", json.MaxDepth+1), tooDeep},
		{"too deep", tracker.Event{Properties: map[string]any{"deep": deep}}, "deep" + strings.Repeat(".d", json.MaxDepth+1), tooDeep},
		{"typed NaN", tracker.Event{Properties: map[string]any{"fs": []float64{math.NaN()}}}, "fs", "NaN"},
		{"func in struct", tracker.Event{Properties: map[string]any{"s": struct{ F func() }{}}}, "s", "func() value"},
		{"property time year", tracker.Event{Properties: map[string]any{"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, "t", "time.Time year 10000 outside 0–9999"},
		{"failing MarshalJSON", tracker.Event{Properties: map[string]any{"m": secretMarshaler{}}}, "m", "eventline.secretMarshaler: its MarshalJSON or MarshalText method failed"},
		{"bad json.Number", tracker.Event{Properties: map[string]any{"n": stdjson.Number("0x1F")}}, "n", "json.Number that is not a JSON number"},
		{"timestamp year", tracker.Event{Timestamp: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, "", "timestamp year -1 outside 0–9999"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Name = "e"
			dst := []byte("keep")
			got, err := Append(dst, &tc.e)
			if err == nil {
				t.Fatalf("no error; wrote %.200s", got)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed on error: %.100q", got)
			}
			if !errors.Is(err, ErrUnencodable) {
				t.Errorf("errors.Is(%v, ErrUnencodable) = false", err)
			}
			var je *json.Error
			if !errors.As(err, &je) {
				t.Fatalf("%T is not a *json.Error", err)
			}
			if je.Key != tc.key || je.Problem != tc.problem {
				t.Errorf("got key %.80q problem %q, want %.80q %q", je.Key, je.Problem, tc.key, tc.problem)
			}
			// Capture's check refuses the same values in the same words.
			if tc.key == "" {
				return
			}
			var w json.Walker
			_, merr := w.MeasureObject(tc.e.Properties)
			if merr == nil || merr.Error() != err.Error() {
				t.Errorf("measuring: %v, encoding: %v", merr, err)
			}
		})
	}
}

func TestAppendTooLong(t *testing.T) {
	small, err := Append(nil, &tracker.Event{Name: "e", Properties: map[string]any{"big": ""}})
	if err != nil {
		t.Fatal(err)
	}
	// The largest line that fits, then one byte more.
	fits := tracker.Event{Name: "e", Properties: map[string]any{"big": strings.Repeat("x", line.Max-len(small))}}
	if b, err := Append(nil, &fits); err != nil || len(b) != line.Max {
		t.Fatalf("line of %d bytes: %v", len(b), err)
	}
	over := tracker.Event{Name: "e", Properties: map[string]any{"big": strings.Repeat("x", line.Max-len(small)+1)}}
	got, err := Append([]byte("keep"), &over)
	if !errors.Is(err, line.ErrTooLong) || string(got) != "keep" {
		t.Fatalf("got %d bytes, %v; want dst unchanged and line.ErrTooLong", len(got), err)
	}
	if want := fmt.Sprintf("event line of %d bytes: line longer than 1048576 bytes", line.Max+1); err.Error() != want {
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
	e := tracker.Event{Name: "e", Properties: map[string]any{"password_hint": math.NaN(), "ok": "secret value"}}
	_, err := Append(nil, &e)
	if want := `property "password_hint": NaN: not JSON-encodable`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestAppendMatchesEncodingJSON checks the hand-written appender
// against encoding/json on random values: both outputs must decode to the
// same value.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		props := randomProps(rng, 0, true)
		e := tracker.Event{Name: randomString(rng), DistinctID: randomString(rng), UUID: randomString(rng), Timestamp: lineTS, Properties: props}
		line, err := Append(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(line) || !stdjson.Valid(line) {
			t.Fatalf("invalid output %q", line)
		}
		var mine struct {
			Event      string         `json:"event"`
			Properties map[string]any `json:"properties"`
		}
		if err := stdjson.Unmarshal(line, &mine); err != nil {
			t.Fatal(err)
		}
		ref, err := stdjson.Marshal(struct {
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
		if err := stdjson.Unmarshal(ref, &theirs); err != nil {
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
		buf, err = Append(buf[:0], &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(buf)
		if err != nil {
			t.Fatalf("%v\nline: %s", err, buf)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip differs\nwant %#v\ngot  %#v\nline %s", e, got, buf)
		}
	}
}

func randomEvent(rng *rand.Rand) tracker.Event {
	e := tracker.Event{
		Name:       randomString(rng) + "x",
		DistinctID: randomString(rng),
		UUID:       fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, 0x8000|rng.Uint32()&0x3fff, rng.Uint64()&(1<<48-1)),
		Timestamp:  time.UnixMicro(rng.Int64N(1 << 52)).UTC(),
		Properties: randomProps(rng, 0, false),
	}
	if rng.IntN(2) == 0 {
		e.Groups = map[string]string{tracker.GroupOrganization: randomString(rng), randomString(rng): randomString(rng)}
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
		return stdjson.Number(fmt.Sprint(rng.IntN(1000)))
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

func TestParseNumbers(t *testing.T) {
	line := `{"event":"n","properties":{"i":42,"neg":-1,"big":9223372036854775808,"huge":18446744073709551616,"f":1.0,"e":1e3,"max":9223372036854775807,"nested":{"a":[1,2.5]}}}`
	e, err := Parse([]byte(line))
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

func TestParseRejects(t *testing.T) {
	cases := []struct{ name, line, want string }{
		{"not JSON", `{"event":`, "not a JSON object: unexpected end of JSON input"},
		{"trailing data", `{"event":"a"} x`, "not a JSON object: invalid character 'x' after top-level value"},
		{"array", `[1]`, "not an event line: json: cannot unmarshal array into Go value of type eventline.wire"},
		{"no event", `{"uuid":"u"}`, `not an event line: no "event" name`},
		{"empty event", `{"event":""}`, `not an event line: no "event" name`},
		{"bad timestamp", `{"event":"a","timestamp":"yesterday"}`, `timestamp "yesterday" is not RFC 3339`},
		{"timestamp past 9999 in UTC", `{"event":"a","timestamp":"9999-12-31T23:30:00-01:00"}`, `timestamp "9999-12-31T23:30:00-01:00" is outside years 0–9999 in UTC`},
		{"group not a string", `{"event":"a","groups":{"organization":1}}`, "not an event line: json: cannot unmarshal number into Go struct field wire.groups of type string"},
		{"number out of range", `{"event":"a","properties":{"x":1e999}}`, `property "x": number 1e999 out of range`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.line))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestParseTimestampZones(t *testing.T) {
	e, err := Parse([]byte(`{"event":"a","timestamp":"2026-11-28T11:15:03.123456789+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC); !e.Timestamp.Equal(want) || e.Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp %v, want %v in UTC", e.Timestamp, want)
	}
	e, err = Parse([]byte(`{"event":"a"}`))
	if err != nil || !e.Timestamp.IsZero() || e.Properties != nil || e.Groups != nil {
		t.Fatalf("minimal line: %#v, %v", e, err)
	}
}

func TestAppendAllocs(t *testing.T) {
	e := benchEvent()
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		if buf, err = Append(buf[:0], &e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocates %.1f times per event, want 0", allocs)
	}
}

// benchEvent is the 5-property event of the benchmarks.
func benchEvent() tracker.Event {
	return tracker.Event{
		UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f", Name: "query_initiated", DistinctID: "org_42",
		Timestamp: lineTS,
		Groups:    map[string]string{tracker.GroupOrganization: "org_42"},
		Properties: map[string]any{
			"user":        "alice",
			"trace_id":    "4bf92f3577b34da6a3ce929d0e0e4736",
			"duration_ms": 12.5,
			"rows":        1042,
			"cached":      false,
		},
	}
}

func BenchmarkAppend(b *testing.B) {
	e := benchEvent()
	b.Run("eventline.Append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			var err error
			if buf, err = Append(buf[:0], &e); err != nil {
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
			out, err := stdjson.Marshal(wire{e.UUID, e.Name, e.DistinctID, e.Timestamp, e.Groups, e.Properties})
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n + 1))
	})
}

// FuzzAppend checks the appender against encoding/json on arbitrary
// strings (keys, values, names, with invalid UTF-8) and floats: the line is
// valid JSON, and decodes to what encoding/json's encoding decodes to.
func FuzzAppend(f *testing.F) {
	f.Add("user", "alice", "query_initiated", 12.5)
	f.Add("k\"\\\x00", "\xff\xfe\u2028<&>", "é世🎉", 1e-7)
	f.Add("", "", "x", math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, key, value, name string, num float64) {
		if math.IsNaN(num) || math.IsInf(num, 0) {
			return
		}
		props := map[string]any{key: value, key + "#n": num, key + "#l": []any{value, num}}
		e := tracker.Event{Name: name, DistinctID: value, UUID: key, Timestamp: lineTS, Groups: map[string]string{key: value}, Properties: props}
		line, err := Append(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if !stdjson.Valid(line) || !utf8.Valid(line) || line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
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
		if err := stdjson.Unmarshal(line, &mine); err != nil {
			t.Fatal(err)
		}
		ref, err := stdjson.Marshal(wire{e.UUID, e.Name, e.DistinctID, e.Groups, props})
		if err != nil {
			t.Fatal(err)
		}
		if err := stdjson.Unmarshal(ref, &theirs); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(mine, theirs) {
			t.Fatalf("differs from encoding/json\nmine:   %s\ntheirs: %s", line, ref)
		}
	})
}
