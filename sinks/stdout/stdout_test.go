package stdout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/terminal/ptytest"
	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ts = time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC)

func event(name string, props map[string]any) tracker.Event {
	return tracker.Event{
		UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f", Name: name, DistinctID: "org_42", Timestamp: ts,
		Groups: map[string]string{"organization": "org_42"}, Properties: props,
	}
}

// countingWriter records each Write call.
type countingWriter struct {
	bytes.Buffer
	calls int
	err   error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	return w.Buffer.Write(p)
}

func newSink(t *testing.T, opts ...stdout.Option) *stdout.Sink {
	t.Helper()
	s, err := stdout.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestJSONWritesEventLinesOneWritePerBatch(t *testing.T) {
	var w countingWriter
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatJSON))
	props := map[string]any{"user": "alice", "rows": 1042}
	batch := []tracker.Event{event("a", props), event("b", nil)}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	want := `{"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"a","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"rows":1042,"user":"alice"}}
{"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"b","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{}}
`
	if w.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", w.String(), want)
	}
	if w.calls != 1 {
		t.Fatalf("%d writes for one small batch, want 1", w.calls)
	}
	if len(props) != 2 {
		t.Fatal("the sink modified the caller's properties")
	}
}

func TestJSONLargeBatchIsSplitAndComplete(t *testing.T) {
	var w countingWriter
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatJSON))
	batch := make([]tracker.Event, 2000)
	for i := range batch {
		batch[i] = event("e", map[string]any{"i": i})
	}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r := eventline.NewReader(&w.Buffer, "stdout")
	for i := range batch {
		e, err := r.Next()
		if err != nil || e.Properties["i"] != int64(i) {
			t.Fatalf("line %d: %v %v", i+1, e.Properties, err)
		}
	}
	if w.calls < 2 || w.calls > 10 {
		t.Fatalf("%d writes for a ~500 KiB batch, want a few of 64 KiB", w.calls)
	}
}

func TestBadEventIsSkippedAndNamed(t *testing.T) {
	for _, format := range []stdout.Format{stdout.FormatJSON, stdout.FormatPretty} {
		t.Run(format.String(), func(t *testing.T) {
			var w countingWriter
			s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(format))
			batch := []tracker.Event{event("ok1", nil), event("bad", map[string]any{"latency": math.NaN()}), event("ok2", nil)}
			err := s.Write(context.Background(), batch)
			if !errors.Is(err, eventline.ErrUnencodable) {
				t.Fatalf("error %v does not match ErrUnencodable", err)
			}
			if want := `stdout sink: event "bad" not written: property "latency": NaN: not JSON-encodable`; err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if out := w.String(); strings.Count(out, "\n") != 2 || !strings.Contains(out, "ok1") || !strings.Contains(out, "ok2") || strings.Contains(out, "bad") {
				t.Fatalf("output:\n%s", out)
			}
		})
	}
}

func TestBadEventGoesToUndelivered(t *testing.T) {
	var w countingWriter
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatJSON))
	var reported []string
	s.SetUndelivered(func(events []tracker.Event, reason error) {
		for _, e := range events {
			reported = append(reported, e.Name+": "+reason.Error())
		}
	})
	batch := []tracker.Event{event("ok1", nil), event("bad", map[string]any{"latency": math.NaN()}), event("ok2", nil)}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if want := `bad: stdout sink: event "bad" not written: property "latency": NaN: not JSON-encodable`; len(reported) != 1 || reported[0] != want {
		t.Fatalf("reported %q, want [%s]", reported, want)
	}
	if out := w.String(); strings.Count(out, "\n") != 2 || strings.Contains(out, "bad") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestWriterErrorIsReturned(t *testing.T) {
	for _, format := range []stdout.Format{stdout.FormatJSON, stdout.FormatPretty} {
		t.Run(format.String(), func(t *testing.T) {
			boom := errors.New("broken pipe")
			s := newSink(t, stdout.WithWriter(&countingWriter{err: boom}), stdout.WithFormat(format))
			err := s.Write(context.Background(), []tracker.Event{event("a", nil)})
			if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "stdout sink: ") {
				t.Fatalf("got %v, want a stdout sink error wrapping %v", err, boom)
			}
		})
	}
}

// TestWriterErrorMidBatchCountsWhatWasNotWritten: without an
// UndeliveredFunc, an error after the writer took the first lines counts the
// events it did not take.
func TestWriterErrorMidBatchCountsWhatWasNotWritten(t *testing.T) {
	line := func(i int) int {
		b, err := eventline.Append(nil, &tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	w := &fullWriter{limit: line(0) + line(1) + 5} // two whole lines and a torn third
	s := newSink(t, stdout.WithWriter(w), stdout.WithFormat(stdout.FormatJSON))
	batch := make([]tracker.Event, 5)
	for i := range batch {
		batch[i] = tracker.Event{Name: "e", Properties: map[string]any{"i": i}}
	}
	err := s.Write(context.Background(), batch)
	if !errors.Is(err, errFull) || err.Error() != "3 of 5 events not written: stdout sink: write: "+errFull.Error() {
		t.Fatalf("got %v", err)
	}
	if got := writtenIndices(t, stdout.FormatJSON, w.Bytes()); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("written %v", got)
	}
}

func TestCancelledContextWritesNothing(t *testing.T) {
	var w countingWriter
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatJSON))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, []tracker.Event{event("a", nil)}); !errors.Is(err, context.Canceled) || w.calls != 0 {
		t.Fatalf("got %v after %d writes", err, w.calls)
	}
}

func TestPretty(t *testing.T) {
	var w bytes.Buffer
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatPretty), stdout.WithLocation(time.FixedZone("X", 3600)))
	e := event("query_failed", map[string]any{
		"sqlstate": "42P01", "message": "taken", "distinct_id": "taken too", "level": 3,
		"duration_ms": 12.0, "ok": false, "tags": []any{"a", 1}, "note": "two words",
	})
	e.Groups["instance"] = "i-1"
	e.Groups["message"] = "group named like a reserved field"
	if err := s.Write(context.Background(), []tracker.Event{e, {Name: "bare", Timestamp: ts}}); err != nil {
		t.Fatal(err)
	}
	want := `11:15:03.123 query_failed distinct_id=org_42 instance=i-1 groups.message="group named like a reserved field" organization=org_42 duration_ms=12.0 note="two words" ok=false properties.distinct_id="taken too" properties.level=3 properties.message=taken sqlstate=42P01 tags=["a",1]
11:15:03.123 bare distinct_id=
`
	if w.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", w.String(), want)
	}
}

func TestPrettyColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	var w bytes.Buffer
	s := newSink(t, stdout.WithWriter(&w), stdout.WithFormat(stdout.FormatPretty), stdout.WithColor(true), stdout.WithLocation(time.UTC))
	if err := s.Write(context.Background(), []tracker.Event{event("a", map[string]any{"k": "v"})}); err != nil {
		t.Fatal(err)
	}
	if want := "\x1b[90m10:15:03.123\x1b[0m \x1b[1ma\x1b[0m \x1b[36mdistinct_id=\x1b[0morg_42"; !strings.HasPrefix(w.String(), want) {
		t.Fatalf("got %q, want prefix %q", w.String(), want)
	}
}

func TestAutoFormat(t *testing.T) {
	var buf bytes.Buffer
	if s := newSink(t, stdout.WithWriter(&buf)); s.Format() != stdout.FormatJSON {
		t.Errorf("auto on a buffer: %v, want json", s.Format())
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := newSink(t, stdout.WithWriter(f)); s.Format() != stdout.FormatJSON {
		t.Errorf("auto on a regular file: %v, want json", s.Format())
	}
	if s := newSink(t, stdout.WithWriter(f), stdout.WithFormat(stdout.FormatPretty)); s.Format() != stdout.FormatPretty {
		t.Errorf("explicit pretty: %v", s.Format())
	}
}

func TestAutoFormatOnTerminal(t *testing.T) {
	tty, _ := ptytest.Open(t)
	t.Setenv("NO_COLOR", "")
	s := newSink(t, stdout.WithWriter(tty))
	if s.Format() != stdout.FormatPretty {
		t.Fatalf("auto on a terminal: %v, want pretty", s.Format())
	}
}

// Colours on a terminal unless NO_COLOR is set or TERM is dumb.
func TestColorOnATerminalFollowsTheEnvironment(t *testing.T) {
	cases := []struct {
		term, noColor string
		color         bool
	}{
		{"xterm-256color", "", true},
		{"xterm-256color", "1", false},
		{"dumb", "", false},
	}
	for _, c := range cases {
		t.Run(c.term+"/"+c.noColor, func(t *testing.T) {
			t.Setenv("TERM", c.term)
			t.Setenv("NO_COLOR", c.noColor)
			tty, master := ptytest.Open(t)
			s := newSink(t, stdout.WithWriter(tty))
			if err := s.Write(context.Background(), []tracker.Event{event("a", map[string]any{"k": "v"})}); err != nil {
				t.Fatal(err)
			}
			out := ptytest.ReadLine(t, master)
			if !strings.Contains(out, "org_42") || strings.Contains(out, "\x1b[") != c.color {
				t.Errorf("TERM=%s NO_COLOR=%s: got %q, want colour %v", c.term, c.noColor, out, c.color)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name string
		opts []stdout.Option
		want string
	}{
		{"nil writer", []stdout.Option{stdout.WithWriter(nil)}, "stdout sink: WithWriter(nil): a writer is required"},
		{"unknown format", []stdout.Option{stdout.WithFormat(7)}, "stdout sink: unknown Format(7): want FormatAuto, FormatJSON or FormatPretty"},
		{"nil location", []stdout.Option{stdout.WithLocation(nil)}, "stdout sink: WithLocation(nil): a location is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := stdout.New(tc.opts...)
			if err == nil || err.Error() != tc.want || s != nil {
				t.Fatalf("got %v, %v; want %s", s, err, tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	cases := []struct {
		in   string
		want stdout.Format
		err  string
	}{
		{"", stdout.FormatAuto, ""},
		{"auto", stdout.FormatAuto, ""},
		{"json", stdout.FormatJSON, ""},
		{" Pretty ", stdout.FormatPretty, ""},
		{"xml", stdout.FormatAuto, `stdout format "xml": want auto, json or pretty`},
	}
	for _, tc := range cases {
		got, err := stdout.ParseFormat(tc.in)
		if got != tc.want || fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tc.err}[tc.err == ""] {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v, %s", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			if back, _ := stdout.ParseFormat(got.String()); back != got {
				t.Errorf("ParseFormat(%v.String()) = %v", got, back)
			}
		}
	}
}

func TestPrettyQuotesANameWithControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	s, err := stdout.New(stdout.WithWriter(&buf), stdout.WithFormat(stdout.FormatPretty), stdout.WithColor(false))
	if err != nil {
		t.Fatal(err)
	}
	e := tracker.Event{Name: "evil\n\x1b[2Jname", DistinctID: "d", UUID: "u", Timestamp: time.Now()}
	if err := s.Write(context.Background(), []tracker.Event{e}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Count(out, "\n") != 1 || strings.Contains(out, "\x1b") || !strings.Contains(out, `"evil\n\x1b[2Jname"`) {
		t.Fatalf("pretty line %q", out)
	}
}
