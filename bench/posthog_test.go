package bench_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

// apiKey is a made-up project key: the endpoints are local.
const apiKey = "phc_bench"

// newBareClient is posthog-go as the PostHog sink configures it.
func newBareClient(tb testing.TB, endpoint string, cb ph.Callback) ph.Client {
	c, err := ph.NewWithConfig(apiKey, ph.Config{Endpoint: endpoint, Compression: ph.CompressionGzip, Callback: cb, Logger: bench.QuietLogger{}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkEnqueue compares what the calling goroutine pays per event:
// tracker.Capture with the PostHog sink (which encodes on its worker)
// against posthog-go v1.23.1's Enqueue (which encodes JSON on the caller),
// both sending to a local endpoint. dropped/op counts what either could not
// queue (none, when the endpoint keeps up).
func BenchmarkEnqueue(b *testing.B) {
	srv := posthogtest.NewDiscardServer(b)
	sink, err := posthog.New(apiKey, posthog.WithEndpoint(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("posthog", sink, tracker.WithQueueSize(1<<18)))
	if err != nil {
		b.Fatal(err)
	}
	c := newBareClient(b, srv.URL, nil)
	var full atomic.Int64
	enqueue := bench.Side{Name: "posthog-go", Run: func(n int) {
		for range n {
			if c.Enqueue(bench.BareCapture()) != nil {
				full.Add(1)
			}
		}
	}}
	bench.Compare(b, 256, false, enqueue, capturing(tr))
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = c.CloseWithContext(ctx)
	if err := tr.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(tr.Stats().Sinks["posthog"].Dropped.Total())/float64(b.N), "dropped/op")
	b.ReportMetric(float64(full.Load())/float64(b.N), "anchor-dropped/op")
	// The caller's allocations: Capture's, with a worker that sleeps
	// through the count (the tracker and client above are closed: nothing of
	// theirs runs).
	quietSink, err := posthog.New(apiKey, posthog.WithEndpoint(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	quiet, err := tracker.New(tracker.WithSink("posthog", quietSink, quietSinks()...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = quiet.Close(context.Background()) })
	growQueues(b, quiet)
	quietSide := capturing(quiet)
	bench.ReportAllocs(b, "allocs/op", func() { quietSide.Run(1) })
	// Enqueue's, its client's goroutine included.
	c = newBareClient(b, srv.URL, nil)
	b.Cleanup(func() { _ = c.Close() })
	bench.ReportAllocs(b, "anchor-allocs/op", func() { enqueue.Run(1) })
}

// deliveredRound is how many events one round of BenchmarkDelivered sends
// through each side.
const deliveredRound = 5000

// BenchmarkDelivered compares the events delivered per second to a local
// PostHog endpoint by the tracker with its PostHog sink and by a bare
// posthog-go client sending the same events: each op is one round of
// deliveredRound events through a fresh client (or tracker), from the
// first capture until Close returns with every event acknowledged. Neither
// drops: the bare client retries on ErrQueueFull, the tracker's queue
// blocks. events/s and anchor-events/s are the two rates.
func BenchmarkDelivered(b *testing.B) {
	srv := posthogtest.NewDiscardServer(b)
	bare := bench.Side{Name: "posthog-go", Run: func(rounds int) {
		for range rounds {
			cb := &posthogtest.Counter{}
			c := newBareClient(b, srv.URL, cb)
			for range deliveredRound {
				for c.Enqueue(bench.BareCapture()) == ph.ErrQueueFull {
					runtime.Gosched()
				}
			}
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
			if got := cb.Sent.Load(); got != deliveredRound {
				b.Fatalf("bare client delivered %d of %d (%d failed)", got, deliveredRound, cb.Failed.Load())
			}
		}
	}}
	tracked := bench.Side{Name: "multitrack", Run: func(rounds int) {
		for range rounds {
			s, err := posthog.New(apiKey, posthog.WithEndpoint(srv.URL))
			if err != nil {
				b.Fatal(err)
			}
			tr, err := tracker.New(tracker.WithSink("posthog", s, tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)))
			if err != nil {
				b.Fatal(err)
			}
			ctx, e := bench.OrgContext(), bench.Event()
			for range deliveredRound {
				tr.Capture(ctx, e)
			}
			if err := tr.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			if st := s.Stats(); st.Sent != deliveredRound {
				b.Fatalf("tracker delivered %d of %d: %+v", st.Sent, deliveredRound, st)
			}
		}
	}}
	per, anchorPer := bench.Compare(b, 1, true, bare, tracked)
	b.ReportMetric(deliveredRound*float64(time.Second)/float64(per), "events/s")
	b.ReportMetric(deliveredRound*float64(time.Second)/float64(anchorPer), "anchor-events/s")
}
