package posthog

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/tracker"
)

// End-to-end: events captured through a tracker whose only sink is a real
// PostHog sink, sending to a local fake PostHog.

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func newTestTracker(t *testing.T, s *Sink, opts ...tracker.Option) (*tracker.Tracker, string) {
	t.Helper()
	dl := filepath.Join(t.TempDir(), "dead-letter.jsonl")
	tr, err := tracker.New(append([]tracker.Option{
		tracker.WithSink("posthog", s, tracker.WithFlushInterval(5*time.Millisecond)),
		tracker.WithDeadLetter(dl),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(context.Background()) })
	return tr, dl
}

func TestTrackerIdentityFromContext(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, err := New(testKey, fastOptions(f.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := newTestTracker(t, s)
	orgCtx := tracker.WithOrganization(context.Background(), "org_42")
	for i := range 10 {
		tr.Capture(orgCtx, tracker.Event{Name: "query_initiated", Properties: map[string]any{"i": i, "password": "hunter2"}})
		tr.Capture(context.Background(), tracker.Event{Name: "cli_started", Properties: map[string]any{"i": i}})
	}
	if err := tr.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}

	msgs := f.Messages()
	if len(msgs) != 20 {
		t.Fatalf("server accepted %d events, want 20", len(msgs))
	}
	for u, m := range msgs {
		if !uuidV7.MatchString(u) {
			t.Errorf("uuid %q is not the tracker's UUIDv7", u)
		}
		props := m["properties"].(map[string]any)
		if _, ok := props["password"]; ok {
			t.Errorf("a secret property reached PostHog: %v", m)
		}
		switch m["event"] {
		case "query_initiated":
			if m["distinct_id"] != "org_42" || !reflect.DeepEqual(props["$groups"], map[string]any{"organization": "org_42"}) {
				t.Errorf("org event: distinct_id %v, $groups %v", m["distinct_id"], props["$groups"])
			}
		case "cli_started":
			if _, ok := props["$groups"]; ok || m["distinct_id"] != tracker.DefaultFallbackDistinctID {
				t.Errorf("standalone event: distinct_id %v, $groups %v", m["distinct_id"], props["$groups"])
			}
		default:
			t.Errorf("unexpected event %v", m["event"])
		}
	}
	ss := tr.Stats().Sinks["posthog"]
	if ss.Delivered != 20 || ss.Undelivered != 0 || s.Stats().Sent != 20 {
		t.Errorf("tracker sink stats %+v, sink stats %+v", ss, s.Stats())
	}
}

func TestTrackerDeadLettersWhatPostHogDoesNotTake(t *testing.T) {
	cases := []struct {
		name    string
		script  posthogtest.Script
		closeIn time.Duration
	}{
		{"half the batches rejected", func(n int) posthogtest.Answer { return posthogtest.Answer{Status: []int{200, 400}[n%2]} }, 10 * time.Second},
		{"always 503", posthogtest.Always(http.StatusServiceUnavailable), time.Second},
		{"hangs past the close deadline", posthogtest.Hang(), time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := posthogtest.NewServer(t, tc.script)
			s, err := New(testKey, fastOptions(f.URL)...)
			if err != nil {
				t.Fatal(err)
			}
			tr, dl := newTestTracker(t, s)
			events := makeEvents(40)
			for _, e := range events {
				tr.Capture(context.Background(), e)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.closeIn)
			defer cancel()
			closeErr := tr.Close(ctx)

			c := readDeadLetter(t, dl)
			acc, und := assertAccounted(t, events, f, c)
			if acc+und != len(events) {
				t.Fatalf("server %d + dead letter %d != %d captured", acc, und, len(events))
			}
			if und > 0 && tc.name == "hangs past the close deadline" && closeErr == nil {
				t.Error("Close returned nil though events were not delivered at close")
			}
			ss := tr.Stats().Sinks["posthog"]
			if ss.DeadLettered != uint64(und) || ss.Undelivered != uint64(und) {
				t.Errorf("tracker sink stats %+v; %d in the dead letter", ss, und)
			}
		})
	}
}

func TestSlowServerDoesNotSlowCapture(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Hang())
	s, err := New(testKey, fastOptions(f.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := newTestTracker(t, s)
	capture := func(n int) {
		for i := range n {
			tr.Capture(context.Background(), tracker.Event{Name: "query_initiated", DistinctID: "org_42", Properties: map[string]any{"i": i}})
		}
	}
	capture(150)
	// Wait until posthog-go is stuck on the server...
	waitForRequests(t, f, 1)
	// ...then every Capture still returns, and is kept, while the server has
	// answered nothing.
	capture(150)
	if st := tr.Stats(); st.Captured != 300 || st.Kept != 300 {
		t.Fatalf("captured %d, kept %d; want 300", st.Captured, st.Kept)
	}
	if acc := f.Accepted(); len(acc) != 0 {
		t.Fatalf("the hanging server accepted %d events", len(acc))
	}
	// A deadline the hanging server outlasts, with room for the tracker's
	// and the sink's margins on a busy machine under -race.
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	closeErr := tr.Close(closeCtx)
	if closeErr == nil {
		t.Error("Close = nil with a hanging endpoint")
	}
	t.Logf("Close: %v", closeErr)
	st := tr.Stats().Sinks["posthog"]
	if st.Undelivered+st.Failed+st.Dropped.Total() != 300 {
		t.Errorf("sink stats %+v do not account for 300 events; posthog sink: %+v", st, s.Stats())
	}
}

// laterPanicking encodes the first time, when the tracker checks the event on
// the caller, and panics after that, inside posthog-go's Enqueue.
type laterPanicking struct{ calls atomic.Int32 }

func (m *laterPanicking) MarshalJSON() ([]byte, error) {
	if m.calls.Add(1) == 1 {
		return []byte(`"ok"`), nil
	}
	panic("x")
}

// The reviewer's repro: good1, an event whose property panics in the sink,
// good2 in one batch. good1 and good2 are delivered and counted so; only the
// panicking event is undelivered, once.
func TestTrackerPanickingPropertyFailsOnlyItsEvent(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, err := New(testKey, fastOptions(f.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	// One batch, written when Close drains the queue.
	tr, err := tracker.New(tracker.WithSink("posthog", s, tracker.WithFlushInterval(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr.Capture(ctx, tracker.Event{Name: "good1", DistinctID: "org_42"})
	tr.Capture(ctx, tracker.Event{Name: "bad", DistinctID: "org_42", Properties: map[string]any{"v": &laterPanicking{}}})
	tr.Capture(ctx, tracker.Event{Name: "good2", DistinctID: "org_42"})
	closeErr := tr.Close(within(t, 10*time.Second))
	order := f.Order()
	slices.Sort(order)
	if !slices.Equal(order, []string{"good1", "good2"}) {
		t.Errorf("server accepted %v, want good1 and good2", order)
	}
	ss := tr.Stats().Sinks["posthog"]
	if ss.Failed != 0 || ss.Undelivered != 1 {
		t.Errorf("tracker sink stats %+v; want 1 undelivered, none failed (Close: %v)", ss, closeErr)
	}
	if st := s.Stats(); st.Sent != 2 || st.Refused != 1 || st.Undelivered != 1 {
		t.Errorf("sink Stats = %+v", st)
	}
}

// readDeadLetter returns the events in the dead-letter file dl (none when
// it does not exist), checking each names the posthog sink.
func readDeadLetter(t *testing.T, dl string) *collector {
	t.Helper()
	dead, warnings, err := eventline.ReadFile(dl)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dead letter: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("dead letter warnings: %v", warnings)
	}
	c := &collector{}
	for _, e := range dead {
		if e.Properties[tracker.PropSink] != "posthog" {
			t.Errorf("dead-letter line without its sink: %v", e.Properties)
		}
		c.events = append(c.events, e)
	}
	return c
}

// The repro: a 1 s outage (503, then 200) inside a 3 s Close
// deadline lost all 2,000 events to the dead letter after posthog-go's 3
// retries, 0.8 s in. Close retries while its deadline allows: all are
// delivered. (The deadline here is longer than 3 s, for a loaded machine:
// an answer cut off by the deadline would leave an event both accepted and
// dead-lettered.)
func TestTrackerCloseOutlastsAnOutage(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Outage(time.Second, http.StatusServiceUnavailable))
	s, err := New(testKey, WithEndpoint(f.URL), WithInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr, dl := newTestTracker(t, s)
	events := makeEvents(2000)
	for _, e := range events {
		tr.Capture(context.Background(), e)
	}
	start := time.Now()
	if err := tr.Close(within(t, 10*time.Second)); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	elapsed := time.Since(start)
	acc, und := assertAccounted(t, events, f, readDeadLetter(t, dl))
	if acc != len(events) || und != 0 {
		t.Errorf("delivered %d, dead-lettered %d; want all %d delivered", acc, und, len(events))
	}
	t.Logf("a 1 s outage: %d of %d delivered, %d dead-lettered, Close took %v, %d requests", acc, len(events), und, elapsed, len(f.Requests()))
}

// Close's error names each undelivered event once: the tracker's
// *UndeliveredError counts them, and the sink's own Close error does not
// count them again.
func TestTrackerCloseErrorNamesEachEventOnce(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusBadRequest))
	s, err := New(testKey, fastOptions(f.URL, WithInterval(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := newTestTracker(t, s)
	for _, e := range makeEvents(40) {
		tr.Capture(context.Background(), e)
	}
	closeErr := tr.Close(within(t, 10*time.Second))
	var ue *tracker.UndeliveredError
	if !errors.As(closeErr, &ue) || ue.Count != 40 {
		t.Fatalf("Close = %v, want an UndeliveredError counting 40 events", closeErr)
	}
	if n := strings.Count(closeErr.Error(), "40 events"); n != 1 {
		t.Errorf("Close's error mentions the 40 events %d times, want once:\n%v", n, closeErr)
	}
	if strings.Contains(closeErr.Error(), "not delivered at close") {
		t.Errorf("the sink's Close error counts the events again:\n%v", closeErr)
	}
}
