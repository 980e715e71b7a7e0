package posthog

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// failThen answers status for the first n requests, 200 after.
func failThen(n, status int) func(int) int {
	return func(i int) int {
		if i < n {
			return status
		}
		return http.StatusOK
	}
}

// The reviewer's repro: the server answers 503 twice, then 200, and the one
// event captured meets the server only at Close (posthog-go's interval is
// long). Close has 10 s: the event must be retried and delivered, not
// dead-lettered after one attempt.
func TestTrackerCloseRetriesWhileTheDeadlineAllows(t *testing.T) {
	f := newFakePostHog(t, failThen(2, http.StatusServiceUnavailable))
	s, err := New(testKey, fastOptions(f.URL(), WithInterval(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	tr, dl := newTestTracker(t, s)
	ev := makeEvents(1)[0]
	tr.Capture(context.Background(), ev)
	if err := tr.Close(within(t, 10*time.Second)); err != nil {
		t.Errorf("Close = %v, want nil: the server accepts the third attempt", err)
	}
	reqs, acc, _ := f.snapshot()
	if acc[ev.UUID] != 1 || len(reqs) != 3 {
		t.Errorf("server got %d requests and accepted the event %d times; want 3 requests, accepted once", len(reqs), acc[ev.UUID])
	}
	if dead, _, err := eventline.ReadFile(dl); len(dead) != 0 || (err != nil && !errors.Is(err, fs.ErrNotExist)) {
		t.Errorf("dead letter holds %d events (%v)", len(dead), err)
	}
	if st := s.Stats(); st.Sent != 1 || st.CloseRetried != 1 || st.Undelivered != 0 || st.Pending != 0 {
		t.Errorf("Stats = %+v, want the event sent", st)
	}
}

// A batch that posthog-go is waiting to retry when Close starts is not given
// up: Close keeps retrying it within its deadline.
func TestCloseDuringRetryWaitKeepsRetrying(t *testing.T) {
	f := newFakePostHog(t, failThen(2, http.StatusServiceUnavailable))
	// A first retry delay long enough that Close surely starts inside it.
	s, c := newTestSink(t, f.URL(), WithRetryBackoff(300*time.Millisecond, time.Second))
	events := makeEvents(3)
	writeAll(t, s, events, 3)
	ctx := within(t, 10*time.Second)
	for reqs, _, _ := f.snapshot(); len(reqs) == 0; reqs, _, _ = f.snapshot() {
		if ctx.Err() != nil {
			t.Fatal("posthog-go sent nothing")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	acc, und := assertAccounted(t, events, f, c)
	if acc != len(events) || und != 0 {
		t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(events))
	}
}

// What Close gives up on it gives up on for good: a rejected batch (400) is
// not sent again, retries stop with WithMaxRetries(0), and a server that
// keeps failing gets its events reported undelivered by Close's deadline.
func TestCloseRetriesOnlyWhatPostHogGoWould(t *testing.T) {
	cases := []struct {
		name     string
		policy   func(int) int
		opts     []Option
		closeIn  time.Duration
		wantReqs int // 0: any number
	}{
		{"400 is sent once", always(http.StatusBadRequest), nil, 10 * time.Second, 1},
		{"no retries when none are allowed", always(http.StatusServiceUnavailable), []Option{WithMaxRetries(0)}, 10 * time.Second, 1},
		{"503 every time", always(http.StatusServiceUnavailable), []Option{WithMaxRetries(9)}, 10 * time.Second, 0},
		{"503 until the deadline", always(http.StatusServiceUnavailable),
			[]Option{WithMaxRetries(9), WithRetryBackoff(50*time.Millisecond, 50*time.Millisecond)}, 300 * time.Millisecond, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePostHog(t, tc.policy)
			s, c := newTestSink(t, f.URL(), append([]Option{WithInterval(time.Hour)}, tc.opts...)...)
			events := makeEvents(4)
			writeAll(t, s, events, 4)
			ctx, cancel := context.WithTimeout(context.Background(), tc.closeIn)
			defer cancel()
			err := s.Close(ctx)
			if err == nil {
				t.Error("Close = nil, want an error counting the undelivered events")
			}
			acc, und := assertAccounted(t, events, f, c)
			if acc != 0 || und != len(events) {
				t.Errorf("accepted %d, undelivered %d; want all %d undelivered", acc, und, len(events))
			}
			reqs, _, _ := f.snapshot()
			st := s.Stats()
			if (tc.wantReqs == 1) != (st.CloseRetried == 0) {
				t.Errorf("CloseRetried = %d with %d requests", st.CloseRetried, len(reqs))
			}
			if tc.wantReqs > 0 && len(reqs) != tc.wantReqs {
				t.Errorf("server got %d requests, want %d", len(reqs), tc.wantReqs)
			}
			if tc.wantReqs == 0 && len(reqs) < 2 {
				t.Errorf("server got %d requests: Close did not retry", len(reqs))
			}
			// Retries still going at the deadline are cut short by it.
			if cut := tc.closeIn < time.Second; cut != errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Close = %v; want it to wrap the deadline: %v", err, cut)
			}
			if st.Undelivered != uint64(len(events)) || st.Pending != 0 {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

// Events that fail while Close runs are reported in one UndeliveredFunc
// call per cause, not one per event: under the tracker each call is a dead
// letter write and sync, and hundreds of them outlast Close's deadline.
func TestCloseReportsFailuresInOneCallPerCause(t *testing.T) {
	f := newFakePostHog(t, always(hang))
	s, err := New(testKey, fastOptions(f.URL())...)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	c := &collector{}
	s.SetUndelivered(func(events []tracker.Event, reason error) {
		calls.Add(1)
		c.report(events, reason)
	})
	events := makeEvents(40)
	writeAll(t, s, events, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil {
		t.Error("Close = nil with a hanging endpoint")
	}
	if _, und := assertAccounted(t, events, f, c); und != len(events) {
		t.Errorf("%d undelivered, want %d", und, len(events))
	}
	// The aborted requests' failures share one cause; events not reported on
	// by the deadline are another.
	if n := calls.Load(); n > 2 {
		t.Errorf("UndeliveredFunc called %d times for %d events, want one call per cause", n, len(events))
	}
}
