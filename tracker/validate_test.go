package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
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
