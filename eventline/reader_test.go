package eventline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/internal/line"
	"github.com/multitrack/multitrack/tracker"
)

// readAll drains r, returning the events and every error Next gave before
// io.EOF (a *LineError lets reading continue).
func readAll(t *testing.T, r *Reader) ([]tracker.Event, []error) {
	t.Helper()
	var events []tracker.Event
	var errs []error
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("reader does not reach io.EOF")
		}
		e, err := r.Next()
		switch {
		case err == io.EOF:
			return events, errs
		case err != nil:
			errs = append(errs, err)
		default:
			events = append(events, e)
		}
	}
}

func lineOf(t *testing.T, name string, i int) string {
	t.Helper()
	b, err := Append(nil, &tracker.Event{Name: name, UUID: fmt.Sprint(i), Timestamp: lineTS, Properties: map[string]any{"i": i}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func names(events []tracker.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, e.Name)
	}
	return strings.Join(s, ",")
}

func TestReader(t *testing.T) {
	good := func(name string) string { return lineOf(t, name, 1) }
	cases := []struct {
		name     string
		input    string
		events   string
		errs     []string
		warnings []string
	}{
		{name: "empty"},
		{name: "lines", input: good("a") + good("b") + good("c"), events: "a,b,c"},
		{name: "last line without newline is kept when valid", input: good("a") + strings.TrimSuffix(good("b"), "\n"), events: "a,b"},
		{name: "blank lines and CRLF", input: "\n" + good("a") + "  \r\n" + strings.TrimSuffix(good("b"), "\n") + "\r\n\n", events: "a,b"},
		{
			name:     "torn last line",
			input:    good("a") + good("b") + good("c")[:40],
			events:   "a,b",
			warnings: []string{"events.jsonl:3: torn last line (no trailing newline), skipped: not a JSON object: unexpected end of JSON input"},
		},
		{
			name:   "bad middle line names file:line and reading continues",
			input:  good("a") + "{not json}\n" + good("c"),
			events: "a,c",
			errs:   []string{"events.jsonl:2: not a JSON object: invalid character 'n' looking for beginning of object key string"},
		},
		{
			name:   "torn line in the middle is an error",
			input:  good("a") + good("b")[:40] + "\n" + good("c"),
			events: "a,c",
			errs:   []string{"events.jsonl:2: not a JSON object: unexpected end of JSON input"},
		},
		{
			name:   "bad last line with a newline is an error",
			input:  good("a") + "{\n",
			events: "a",
			errs:   []string{"events.jsonl:2: not a JSON object: unexpected end of JSON input"},
		},
		{
			name:   "valid JSON that is not an event, unterminated, is an error",
			input:  good("a") + `{"uuid":"x"}`,
			events: "a",
			errs:   []string{`events.jsonl:2: not an event line: no "event" name`},
		},
		{
			name:   "line numbers count blank lines",
			input:  good("a") + "\n\n" + `{"event":"b","timestamp":"noon"}` + "\n" + good("c"),
			events: "a,c",
			errs:   []string{`events.jsonl:4: timestamp "noon" is not RFC 3339`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A one-byte reader exercises every refill boundary.
			for _, src := range []io.Reader{strings.NewReader(tc.input), iotest.OneByteReader(strings.NewReader(tc.input))} {
				r := NewReader(src, "events.jsonl")
				events, errs := readAll(t, r)
				if got := names(events); got != tc.events {
					t.Errorf("events %q, want %q", got, tc.events)
				}
				if got := errStrings(errs); !reflect.DeepEqual(got, tc.errs) {
					t.Errorf("errors %q, want %q", got, tc.errs)
				}
				var warnings []error
				for _, w := range r.Warnings() {
					warnings = append(warnings, w)
					if !errors.Is(w, ErrTornLine) {
						t.Errorf("warning %v does not match ErrTornLine", w)
					}
				}
				if got := errStrings(warnings); !reflect.DeepEqual(got, tc.warnings) {
					t.Errorf("warnings %q, want %q", got, tc.warnings)
				}
				if r.BytesRead() != int64(len(tc.input)) {
					t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(tc.input))
				}
				for _, err := range errs {
					var le *LineError
					if !errors.As(err, &le) || le.File != "events.jsonl" || le.Line < 1 {
						t.Errorf("%v: not a *LineError with file and line", err)
					}
				}
			}
		})
	}
}

func errStrings(errs []error) []string {
	var s []string
	for _, err := range errs {
		s = append(s, err.Error())
	}
	return s
}

func TestReaderLongLine(t *testing.T) {
	long := `{"event":"long","properties":{"x":"` + strings.Repeat("y", line.Max) + `"}}`
	cases := []struct {
		name, input, events, err string
	}{
		{"middle", lineOf(t, "a", 1) + long + "\n" + lineOf(t, "c", 3), "a,c", "big.jsonl:2: line longer than 1048576 bytes"},
		{"last, unterminated", lineOf(t, "a", 1) + long, "a", "big.jsonl:2: line longer than 1048576 bytes"},
		{"exactly the limit fits", strings.TrimSuffix(lineOf(t, "a", 1), "\n") + strings.Repeat(" ", line.Max-len(lineOf(t, "a", 1))) + "\n" + lineOf(t, "b", 2), "a,b", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.input), "big.jsonl")
			events, errs := readAll(t, r)
			if got := names(events); got != tc.events {
				t.Errorf("events %q, want %q", got, tc.events)
			}
			if tc.err == "" {
				if len(errs) != 0 {
					t.Errorf("errors %v, want none", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Error() != tc.err || !errors.Is(errs[0], line.ErrTooLong) {
				t.Fatalf("errors %v, want [%s] matching line.ErrTooLong", errs, tc.err)
			}
			if len(r.buf) > line.Max+64<<10 {
				t.Errorf("reader buffered %d bytes for an over-long line", len(r.buf))
			}
		})
	}
}

func TestReaderReadErrorIsFinal(t *testing.T) {
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader(lineOf(t, "a", 1)+lineOf(t, "b", 2)[:10]), iotest.ErrReader(boom))
	r := NewReader(src, "f.jsonl")
	if e, err := r.Next(); err != nil || e.Name != "a" {
		t.Fatalf("first: %v %v", e.Name, err)
	}
	if r.Err() != nil {
		t.Fatalf("Err before the read error: %v", r.Err())
	}
	for range 2 {
		_, err := r.Next()
		if !errors.Is(err, boom) || err.Error() != "f.jsonl:2: disk on fire" {
			t.Fatalf("got %v, want f.jsonl:2: disk on fire", err)
		}
		if r.Err() != err {
			t.Fatalf("Err = %v, want the read error Next returned", r.Err())
		}
	}
}

// A bad line leaves Err nil (skip it and go on); a clean end does too.
func TestReaderErrIsNilForBadLinesAndAtTheEnd(t *testing.T) {
	r := NewReader(strings.NewReader("not json\n"+lineOf(t, "a", 1)), "f.jsonl")
	if _, err := r.Next(); err == nil || r.Err() != nil {
		t.Fatalf("bad line: err %v, Err %v", err, r.Err())
	}
	if e, err := r.Next(); err != nil || e.Name != "a" {
		t.Fatalf("after the bad line: %v %v", e.Name, err)
	}
	if _, err := r.Next(); err != io.EOF || r.Err() != nil {
		t.Fatalf("end: err %v, Err %v", err, r.Err())
	}
}

// TestReadFile writes random events to a real file and reads them
// back: the round trip through the file is lossless, line numbers follow.
func TestReadFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var want []tracker.Event
	var buf []byte
	for range 500 {
		e := randomEvent(rng)
		want = append(want, e)
		var err error
		if buf, err = Append(buf, &e); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, append(buf, `{"event":"torn","pro`...), 0o600); err != nil {
		t.Fatal(err)
	}
	got, warnings, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d events, differ from the %d written", len(got), len(want))
	}
	if len(warnings) != 1 || warnings[0].File != path || warnings[0].Line != 501 {
		t.Fatalf("warnings %v, want the torn line 501 of %s", warnings, path)
	}

	if err := os.WriteFile(path, []byte(lineOf(t, "a", 1)+"oops\n"+lineOf(t, "c", 3)), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, err = ReadFile(path)
	if want := path + ":2: not a JSON object: invalid character 'o' looking for beginning of value"; err == nil || err.Error() != want || len(got) != 1 {
		t.Fatalf("got %d events, %v; want 1 and %s", len(got), err, want)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzReader feeds arbitrary input to the reader. It must not panic, it
// must end in io.EOF or a final read error, every error must name the file
// and a line, and every event it yields must encode and read back equal
// (timestamps to the microsecond, as event lines carry them).
func FuzzReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5 {
		e := randomEvent(rng)
		line, err := Append(nil, &e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
	}
	f.Add([]byte(`{"event":"a","properties":{"n":1e400}}` + "\n"))
	f.Add([]byte("{\"event\":\"a\"}\n{\"ev"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz.jsonl")
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatal("reader does not reach io.EOF")
			}
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.File != "fuzz.jsonl" || le.Line < 1 || !strings.HasPrefix(err.Error(), fmt.Sprintf("fuzz.jsonl:%d: ", le.Line)) {
					t.Fatalf("error without file:line: %v", err)
				}
				continue
			}
			line, err := Append(nil, &e)
			if err != nil {
				t.Fatalf("event read from input does not encode: %v", err)
			}
			back, err := Parse(line)
			if err != nil {
				t.Fatalf("re-encoded line does not parse: %v\n%s", err, line)
			}
			e.Timestamp = e.Timestamp.Truncate(time.Microsecond)
			if !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip differs\nfirst  %#v\nsecond %#v\nline %s", e, back, line)
			}
		}
		if r.BytesRead() != int64(len(data)) {
			t.Fatalf("BytesRead %d of %d", r.BytesRead(), len(data))
		}
	})
}

// BenchmarkReader reads the 5-property event line back, as replay does.
func BenchmarkReader(b *testing.B) {
	e := benchEvent()
	line, err := Append(nil, &e)
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(line, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	var r *Reader
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			r = NewReader(bytes.NewReader(data), "bench")
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
