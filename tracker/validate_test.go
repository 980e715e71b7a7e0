package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/syncbuf"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestRejections(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	type withFunc struct{ F func() }
	var deep any = "leaf"
	for range 33 {
		deep = []any{deep}
	}
	cases := []struct {
		name   string
		event  tracker.Event
		reason func(tracker.RejectStats) uint64
	}{
		{"empty name", tracker.Event{}, func(r tracker.RejectStats) uint64 { return r.EmptyName }},
		{"func", tracker.Event{Name: "e", Properties: map[string]any{"f": func() {}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"chan", tracker.Event{Name: "e", Properties: map[string]any{"c": make(chan int)}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"complex", tracker.Event{Name: "e", Properties: map[string]any{"c": complex(1, 2)}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"NaN", tracker.Event{Name: "e", Properties: map[string]any{"x": math.NaN()}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"Inf in slice", tracker.Event{Name: "e", Properties: map[string]any{"x": []any{1, math.Inf(1)}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"cycle", tracker.Event{Name: "e", Properties: map[string]any{"m": cyclic}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"func in struct", tracker.Event{Name: "e", Properties: map[string]any{"s": withFunc{F: func() {}}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"too large", tracker.Event{Name: "e", Properties: map[string]any{"blob": strings.Repeat("x", 40<<10)}}, func(r tracker.RejectStats) uint64 { return r.TooLarge }},
		{"failing MarshalJSON", tracker.Event{Name: "e", Properties: map[string]any{"m": badMarshaler{}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"panicking MarshalJSON", tracker.Event{Name: "e", Properties: map[string]any{"m": []any{panickyMarshaler{}}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"not a JSON number", tracker.Event{Name: "e", Properties: map[string]any{"n": json.Number("0x1F")}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"time past year 9999", tracker.Event{Name: "e", Properties: map[string]any{"t": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"nested deeper than 32", tracker.Event{Name: "e", Properties: map[string]any{"d": deep}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"large RawMessage", tracker.Event{Name: "e", Properties: map[string]any{"raw": json.RawMessage(`"` + strings.Repeat("x", 40<<10) + `"`)}}, func(r tracker.RejectStats) uint64 { return r.TooLarge }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := trackertest.NewTracker(t)
			tr.Capture(context.Background(), c.event)
			tr.Capture(context.Background(), tracker.Event{Name: "ok", Properties: map[string]any{"n": 1, "s": struct{ A int }{1}}})
			if err := tr.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			s := tr.Stats()
			if c.reason(s.Rejected) != 1 || s.Rejected.Total() != 1 {
				t.Errorf("Rejected = %+v", s.Rejected)
			}
			if evs := rec.Events(); len(evs) != 1 || evs[0].Name != "ok" {
				t.Errorf("delivered %v, want only the valid event", evs)
			}
		})
	}
}

type badMarshaler struct{}

func (badMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("no") }

type panickyMarshaler struct{}

func (panickyMarshaler) MarshalText() ([]byte, error) { panic("text bug") }

func TestMaxEventSizeOption(t *testing.T) {
	tr, _ := trackertest.NewTracker(t, tracker.WithMaxEventSize(200))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"s": strings.Repeat("x", 300)}})
	if s := tr.Stats(); s.Rejected.TooLarge != 1 {
		t.Fatalf("Rejected = %+v", s.Rejected)
	}
}

// A value that encodes itself (a json.RawMessage here) counts at its
// encoded size: 2 MiB of it is over the 32 KiB limit.
func TestSelfEncodingValuesCountAtTheirEncodedSize(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	big := json.RawMessage(`"` + strings.Repeat("x", 2<<20) + `"`)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"payload": big}})
	_ = tr.Flush(ctxT(t))
	s := tr.Stats()
	if s.Rejected.TooLarge != 1 {
		evs := rec.Events()
		_, err := eventline.Append(nil, &evs[0])
		t.Errorf("2 MiB event kept (too_large=%d); AppendEventLine on it: %v", s.Rejected.TooLarge, err)
	}
}

func TestNewReportsEveryBadOption(t *testing.T) {
	_, err := tracker.New(
		tracker.WithSink("", trackertest.NewRecorder()),
		tracker.WithSink("a", nil),
		tracker.WithSink("b", trackertest.NewRecorder(), tracker.WithQueueSize(0)),
		tracker.WithSink("b", trackertest.NewRecorder()),
		tracker.WithProperties(map[string]any{"api_token": "x", "f": func() {}}),
		tracker.WithMaxEventSize(-1),
	)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"sink #1: empty name", `sink "a": nil Sink`, `sink "b": queue size 0`, `sink "b": added twice`, `"api_token"`, `"f"`, "max event size -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"x"`) {
		t.Error("error echoes a property value")
	}
}

// An event line (file, stdout json, dead letter) and PostHog's JSON carry
// the timestamp as RFC 3339, which has years 0 to 9999 only: an event
// outside them, in UTC or in its own zone, is rejected at Capture, counted
// and logged as bad_timestamp, rather than failing in every sink; the years'
// edges are kept and can be written.
func TestTimestampOutsideYears0To9999IsRejected(t *testing.T) {
	east := time.FixedZone("UTC+1", 3600)
	west := time.FixedZone("UTC-1", -3600)
	cases := []struct {
		name string
		ts   time.Time
		keep bool
	}{
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"year -1", time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"year 10000 in UTC only", time.Date(9999, 12, 31, 23, 30, 0, 0, west), false},
		{"year 10000 in its zone only", time.Date(10000, 1, 1, 0, 30, 0, 0, east), false},
		{"year -1 in UTC only", time.Date(0, 1, 1, 0, 30, 0, 0, east), false},
		{"far past", time.Unix(-1<<50, 0), false},
		{"last instant of 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{"first instant of year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log syncbuf.Buffer
			tr, rec := trackertest.NewTracker(t, tracker.WithLogger(zerolog.New(&log)))
			tr.Capture(context.Background(), tracker.Event{Name: "dated", Timestamp: c.ts})
			tr.Capture(context.Background(), tracker.Event{Name: "ok"})
			if err := tr.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			s := tr.Stats()
			evs := rec.Events()
			if c.keep {
				if s.Rejected.Total() != 0 || len(evs) != 2 {
					t.Fatalf("Rejected = %+v, delivered %d; want the event kept", s.Rejected, len(evs))
				}
				if _, err := eventline.Append(nil, &evs[0]); err != nil {
					t.Fatalf("a kept timestamp cannot be written: %v", err)
				}
				return
			}
			if s.Rejected.BadTimestamp != 1 || s.Rejected.Total() != 1 || len(evs) != 1 || evs[0].Name != "ok" {
				t.Fatalf("Rejected = %+v, delivered %v; want the event rejected", s.Rejected, evs)
			}
			if !strings.Contains(log.String(), `"reason":"bad_timestamp"`) || !strings.Contains(log.String(), `"event":"dated"`) {
				t.Errorf("log = %s, want the rejection logged as bad_timestamp", log.String())
			}
		})
	}
}

// Every numeric option is checked against a range, both ends, and an error
// names the option, the value and the range; the range's ends are accepted.
func TestOptionsOutsideTheirRangeAreNamed(t *testing.T) {
	sink := func(opts ...tracker.SinkOption) tracker.Option {
		return tracker.WithSink("s", trackertest.NewRecorder(), opts...)
	}
	cases := []struct {
		name string
		opt  tracker.Option
		want string // "" when accepted
	}{
		{"queue size 0", sink(tracker.WithQueueSize(0)), `sink "s": queue size 0 (WithQueueSize): want 1 to 1048576`},
		{"queue size too large", sink(tracker.WithQueueSize(1<<20 + 1)), `sink "s": queue size 1048577 (WithQueueSize): want 1 to 1048576`},
		{"queue size at the limit", sink(tracker.WithQueueSize(1 << 20)), ""},
		{"batch size 0", sink(tracker.WithBatchSize(0)), `sink "s": batch size 0 (WithBatchSize): want 1 to 65536`},
		{"batch size too large", sink(tracker.WithBatchSize(1<<16 + 1)), `sink "s": batch size 65537 (WithBatchSize): want 1 to 65536`},
		{"batch size at the limit", sink(tracker.WithBatchSize(1 << 16)), ""},
		{"flush interval 0", sink(tracker.WithFlushInterval(0)), `sink "s": flush interval 0s (WithFlushInterval): want 1ns to 1h0m0s`},
		{"flush interval too long", sink(tracker.WithFlushInterval(time.Hour + 1)), `sink "s": flush interval 1h0m0.000000001s (WithFlushInterval): want 1ns to 1h0m0s`},
		{"flush interval at the limit", sink(tracker.WithFlushInterval(time.Hour)), ""},
		{"block timeout negative", sink(tracker.WithBlockTimeout(-1)), `sink "s": block timeout -1ns (WithBlockTimeout): want 0s to 1m0s`},
		{"block timeout too long", sink(tracker.WithBlockTimeout(time.Minute + 1)), `sink "s": block timeout 1m0.000000001s (WithBlockTimeout): want 0s to 1m0s`},
		{"block timeout at the limits", sink(tracker.WithBlockTimeout(0), tracker.WithBlockTimeout(time.Minute)), ""},
		{"write timeout negative", sink(tracker.WithWriteTimeout(-time.Second)), `sink "s": write timeout -1s (WithWriteTimeout): want 0s (no bound) to 1h0m0s`},
		{"write timeout too long", sink(tracker.WithWriteTimeout(2 * time.Hour)), `sink "s": write timeout 2h0m0s (WithWriteTimeout): want 0s (no bound) to 1h0m0s`},
		{"write timeout at the limit", sink(tracker.WithWriteTimeout(time.Hour)), ""},
		{"max event size 0", tracker.WithMaxEventSize(0), `max event size 0 (WithMaxEventSize): want 1 to 1048576 bytes`},
		{"max event size too large", tracker.WithMaxEventSize(1<<20 + 1), `max event size 1048577 (WithMaxEventSize): want 1 to 1048576 bytes`},
		{"max event size at the limit", tracker.WithMaxEventSize(1 << 20), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := tracker.New(c.opt)
			if c.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				closeT(t, tr)
				return
			}
			if err == nil {
				closeT(t, tr)
				t.Fatalf("New accepted it; want %q", c.want)
			}
			if err.Error() != "tracker: "+c.want {
				t.Fatalf("New: %q\nwant %q", err, "tracker: "+c.want)
			}
		})
	}
}
