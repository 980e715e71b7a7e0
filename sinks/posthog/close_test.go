package posthog

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

// lateTolerance is how late a timer may fire on a loaded 2-core machine
// running several -race test binaries: Close keeps 100 ms of a 1 s deadline
// for its last steps, and returns by it unless the scheduler is that late.
const lateTolerance = 100 * time.Millisecond

// closeBy closes s with a deadline d from now, and checks that Close
// returned by it.
func closeBy(t *testing.T, s *Sink, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	deadline, _ := ctx.Deadline()
	start := time.Now()
	err := s.Close(ctx)
	t.Logf("Close took %v of its %v", time.Since(start).Round(time.Millisecond), d)
	if late := time.Since(deadline); late > lateTolerance {
		t.Errorf("Close returned %v after its deadline", late)
	} else if late > 0 {
		t.Logf("Close returned %v after its deadline (a loaded machine)", late)
	}
	return err
}

// An outage shorter than Close's deadline costs nothing: Close retries
// until PostHog is back, however many attempts that takes, more than the
// 1 + WithMaxRetries(1) allowed outside Close. (The first request holds
// every event, so those of the second have failed twice at least.)
func TestCloseOutlastsAnOutageShorterThanItsDeadline(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.FailFirst(6, posthogtest.Answer{Status: http.StatusServiceUnavailable}))
	s, c := newTestSink(t, f.URL, WithInterval(time.Hour), WithBatchSize(100), WithMaxRetries(1))
	events := makeEvents(50)
	writeAll(t, s, events, 25)
	if err := closeBy(t, s, 3*time.Second); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if acc, und := assertAccounted(t, events, f, c); acc != len(events) || und != 0 {
		t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(events))
	}
	attempts := map[string]int{}
	for _, r := range f.Requests() {
		for _, m := range r.Batch {
			attempts[m["uuid"].(string)]++
		}
	}
	most := 0
	for _, e := range events {
		most = max(most, attempts[e.UUID])
	}
	if most < 3 {
		t.Errorf("no event sent more than %d times", most)
	}
}

// An outage longer than Close's deadline: Close retries until just before
// it, then reports every event undelivered, with the deadline and the last
// answer as the reason, and returns by it.
func TestCloseGivesUpByItsDeadlineWhenTheOutageOutlastsIt(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusServiceUnavailable))
	s, c := newTestSink(t, f.URL, WithInterval(time.Hour), WithBatchSize(100), WithMaxRetries(1))
	events := makeEvents(50)
	writeAll(t, s, events, 25)
	if err := closeBy(t, s, time.Second); err != nil {
		t.Errorf("Close = %v, want nil: the UndeliveredFunc has the events", err)
	}
	if acc, und := assertAccounted(t, events, f, c); acc != 0 || und != len(events) {
		t.Errorf("accepted %d, undelivered %d; want all %d undelivered", acc, und, len(events))
	}
	if n := len(f.Requests()); n < 3 {
		t.Errorf("%d requests: Close stopped retrying at WithMaxRetries(1)", n)
	}
	var re *ResponseError
	for _, r := range c.allReasons() {
		if !errors.Is(r, context.DeadlineExceeded) && !errors.As(r, &re) {
			t.Fatalf("reason %v names neither the deadline nor the answer", r)
		}
	}
	if st := s.Stats(); st.Undelivered != uint64(len(events)) || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// A server that never answers: Close aborts the requests before its
// deadline, reports the events in one call per reason, and returns by it.
func TestCloseOnAHangingServer(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Hang())
	s, c := newTestSink(t, f.URL)
	events := makeEvents(40)
	writeAll(t, s, events, 10)
	waitForRequests(t, f, 1)
	if err := closeBy(t, s, time.Second); err != nil {
		t.Errorf("Close = %v, want nil: the UndeliveredFunc has the events", err)
	}
	if _, und := assertAccounted(t, events, f, c); und != len(events) {
		t.Errorf("%d undelivered, want %d", und, len(events))
	}
	for _, r := range c.allReasons() {
		if !errors.Is(r, context.DeadlineExceeded) {
			t.Errorf("reason %v does not wrap the deadline", r)
		}
	}
	// Under the tracker each call is a dead-letter write and sync: one per
	// reason (the aborted requests share one; events with no answer yet are
	// another), not one per event.
	if c.calls > 2 {
		t.Errorf("UndeliveredFunc called %d times for %d events, want one call per reason", c.calls, len(events))
	}
}

// What is final is not retried, at Close or before: a rejected batch (400)
// is sent once; WithMaxRetries(0) turns retries off.
func TestCloseRetriesOnlyWhatMaySucceed(t *testing.T) {
	cases := []struct {
		name   string
		script posthogtest.Script
		opts   []Option
	}{
		{"400 is sent once", posthogtest.Always(http.StatusBadRequest), nil},
		{"retries off", posthogtest.Always(http.StatusServiceUnavailable), []Option{WithMaxRetries(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := posthogtest.NewServer(t, tc.script)
			s, c := newTestSink(t, f.URL, append([]Option{WithInterval(time.Hour), WithBatchSize(100)}, tc.opts...)...)
			events := makeEvents(4)
			writeAll(t, s, events, 4)
			if err := closeBy(t, s, 5*time.Second); err != nil {
				t.Errorf("Close = %v", err)
			}
			if acc, und := assertAccounted(t, events, f, c); acc != 0 || und != len(events) {
				t.Errorf("accepted %d, undelivered %d; want all %d undelivered", acc, und, len(events))
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("server got %d requests, want 1", n)
			}
			if st := s.Stats(); st.Retries != 0 || st.Failed != uint64(len(events)) {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

// A batch waiting for its retry when Close starts is not given up: Close
// keeps retrying it within its deadline.
func TestCloseDuringARetryWaitKeepsRetrying(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.FailFirst(2, posthogtest.Answer{Status: http.StatusServiceUnavailable}))
	// A first retry delay long enough that Close surely starts inside it.
	s, c := newTestSink(t, f.URL, WithRetryBackoff(300*time.Millisecond, time.Second))
	events := makeEvents(3)
	writeAll(t, s, events, 3)
	waitForRequests(t, f, 1)
	if err := closeBy(t, s, 5*time.Second); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if acc, und := assertAccounted(t, events, f, c); acc != len(events) || und != 0 {
		t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(events))
	}
}

// Without an UndeliveredFunc, Close's error counts the events it could not
// deliver, with each reason; errors.Is finds the deadline.
func TestCloseErrorCountsUndeliveredWithoutAnUndeliveredFunc(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Hang())
	s, err := New(testKey, fastOptions(f.URL)...)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, s, makeEvents(23), 7)
	waitForRequests(t, f, 1)
	err = closeBy(t, s, time.Second)
	if err == nil || !strings.Contains(err.Error(), "23 events not delivered") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want 23 events not delivered, wrapping the deadline", err)
	}
	if st := s.Stats(); st.Undelivered != 23 {
		t.Errorf("Stats = %+v", st)
	}
}

// Every way an event can fail ends with it reported once, never lost.
func TestUndeliveredIsReportedNeverLost(t *testing.T) {
	cases := []struct {
		name   string
		script posthogtest.Script // nil: nothing listens
		flush  bool               // let the sink give up before Close
	}{
		{name: "always 503", script: posthogtest.Always(http.StatusServiceUnavailable), flush: true},
		{name: "400 is not retried", script: posthogtest.Always(http.StatusBadRequest), flush: true},
		{name: "connection refused", flush: true},
		{name: "some batches rejected", script: func(n int) posthogtest.Answer { return posthogtest.Answer{Status: []int{200, 400}[n%2]} }, flush: true},
		{name: "hangs past the close deadline", script: posthogtest.Hang()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := posthogtest.NewServer(t, tc.script)
			endpoint := f.URL
			if tc.script == nil {
				endpoint = refusedEndpoint(t)
			}
			s, c := newTestSink(t, endpoint)
			events := makeEvents(23)
			writeAll(t, s, events, 7)
			if tc.flush {
				if err := s.Flush(within(t, 10*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if err := closeBy(t, s, time.Second); err != nil {
				t.Errorf("Close = %v, want nil: the UndeliveredFunc has the events", err)
			}
			acc, und := assertAccounted(t, events, f, c)
			if st := s.Stats(); st.Sent != uint64(acc) || st.Undelivered != uint64(und) || st.Pending != 0 {
				t.Errorf("Stats = %+v; server accepted %d, collector got %d", st, acc, und)
			}
			if tc.name != "some batches rejected" && acc != 0 {
				t.Errorf("server accepted %d events", acc)
			}
		})
	}
}

// The unacknowledged events of a Close cut short keep their own copy: what
// the dead letter gets is the event as written.
func TestUndeliveredEventsAreTheEventsWritten(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Always(http.StatusBadRequest))
	s, c := newTestSink(t, f.URL)
	ev := tracker.Event{Name: "query_failed", DistinctID: "org_1", UUID: uuidv7.Canonical(""),
		Groups: map[string]string{"organization": "org_1"}, Properties: map[string]any{"sqlstate": "42P01"}}
	writeAll(t, s, []tracker.Event{ev}, 1)
	if err := closeBy(t, s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(c.events) != 1 || c.events[0].Name != ev.Name || c.events[0].Properties["sqlstate"] != "42P01" ||
		c.events[0].Groups["organization"] != "org_1" || len(c.events[0].Properties) != 1 {
		t.Errorf("undelivered %+v, want the event as written", c.events)
	}
}
