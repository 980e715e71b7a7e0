package posthog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/posthogtest"
)

// Flush is a barrier for any number of events: with posthog-go's interval
// an hour long, every event written before it reaches PostHog (in batches of
// the batch size) before Flush returns, and nothing is left for Close.
func TestFlushSendsEverythingWrittenBeforeIt(t *testing.T) {
	for _, n := range []int{1, 250, 1030, 10000} {
		t.Run(fmt.Sprintf("%d events", n), func(t *testing.T) {
			f := posthogtest.NewServer(t, nil)
			s, c := newTestSink(t, f.URL, WithBatchSize(DefaultBatchSize), WithInterval(time.Hour))
			events := makeEvents(n)
			writeAll(t, s, events, 256) // the tracker's batch size
			start := time.Now()
			if err := s.Flush(within(t, 20*time.Second)); err != nil {
				t.Fatalf("Flush = %v", err)
			}
			t.Logf("Flush of %d events: %v, %d requests", n, time.Since(start), len(f.Requests()))
			if acc, und := assertAccounted(t, events, f, c); acc != n || und != 0 {
				t.Errorf("accepted %d, undelivered %d; want %d accepted", acc, und, n)
			}
			for _, r := range f.Requests() {
				if len(r.Batch) > DefaultBatchSize {
					t.Errorf("a batch of %d events", len(r.Batch))
				}
			}
			if st := s.Stats(); st.Sent != uint64(n) || st.Pending != 0 {
				t.Errorf("Stats = %+v", st)
			}
			reqs := len(f.Requests())
			if err := s.Close(within(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			if got := len(f.Requests()); got != reqs {
				t.Errorf("Close sent %d more requests: Flush left events behind", got-reqs)
			}
		})
	}
}

// A Flush with nothing written sends nothing, and a Flush after a Flush
// sends only what came between.
func TestFlushSendsOnlyWhatIsNew(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, _ := newTestSink(t, f.URL, WithInterval(time.Hour), WithBatchSize(100))
	for range 2 {
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	writeAll(t, s, makeEvents(3), 3)
	for range 2 {
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if reqs := f.Requests(); len(reqs) != 1 || len(reqs[0].Batch) != 3 {
		t.Errorf("%d requests, want one of 3 events", len(reqs))
	}
	if st := s.Stats(); st.Handovers != 1 {
		t.Errorf("Handovers = %d, want 1", st.Handovers)
	}
}

// A failed attempt during a Flush is retried, and Flush waits for it.
func TestFlushWaitsForRetries(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.FailFirst(2, posthogtest.Answer{Status: http.StatusServiceUnavailable}))
	s, c := newTestSink(t, f.URL, WithInterval(time.Hour), WithBatchSize(100))
	events := makeEvents(12)
	writeAll(t, s, events, 4)
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if acc, und := assertAccounted(t, events, f, c); acc != len(events) || und != 0 {
		t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(events))
	}
	// The first request held every event: each was retried at least once.
	if st := s.Stats(); st.Retries < uint64(len(events)) || st.Sent != uint64(len(events)) {
		t.Errorf("Stats = %+v; want every event retried, then sent", st)
	}
}

// With PostHog not answering, Flush returns when its context ends, counting
// what is still under way (TestCloseOnAHangingServer is Close's part).
func TestFlushOnAHangingServerEndsWithItsContext(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.Hang())
	s, _ := newTestSink(t, f.URL)
	writeAll(t, s, makeEvents(4), 4)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Flush(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "4 messages") {
		t.Errorf("Flush = %v, want 4 messages still under way and DeadlineExceeded", err)
	}
	if st := s.Stats(); st.Pending != 4 {
		t.Errorf("Pending = %d, want 4", st.Pending)
	}
	// A short deadline, so that the cleanup's Close does not wait out its
	// own on the hanging server; what Close does then is not checked here.
	closeCtx, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	_ = s.Close(closeCtx)
}
