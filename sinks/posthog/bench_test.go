package posthog

import (
	"context"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/tracker"
)

// The same event for both clients: an organization's query_initiated with a
// few properties, as the typical user sends it.
var (
	benchProps  = map[string]any{"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "rows": 42, "cached": true}
	benchGroups = map[string]string{tracker.GroupOrganization: "org_42"}
)

// newBareClient is posthog-go configured as the sink configures it by default.
func newBareClient(b *testing.B, endpoint string, cb ph.Callback) ph.Client {
	rt := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(rt.CloseIdleConnections)
	c, err := ph.NewWithConfig(testKey, ph.Config{
		Endpoint:    endpoint,
		Compression: ph.CompressionGzip,
		Callback:    cb,
		Logger:      newLogger(zerolog.Nop(), testKey),
		Transport:   rt,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func bareCapture() ph.Capture {
	return ph.Capture{
		DistinctId: "org_42",
		Event:      "query_initiated",
		Groups:     ph.Groups{tracker.GroupOrganization: "org_42"},
		Properties: benchProps,
	}
}

// deliveredRound is how many events one round of BenchmarkDelivered sends
// through each client.
const deliveredRound = 5000

// BenchmarkDelivered measures delivered events/s end to end to a local
// endpoint, for the tracker with its PostHog sink and for a bare posthog-go
// client sending the same events, side by side (posthogtest.Compare). Each
// round sends deliveredRound events through a fresh bare client and a fresh
// tracker, timing each from the first capture until Close returns with
// every event acknowledged by the endpoint. Neither drops: the bare client
// retries on ErrQueueFull, the tracker's queue blocks. Run with
// -benchtime=20x or more: ns/op is per round.
func BenchmarkDelivered(b *testing.B) {
	srv := posthogtest.NewDiscardServer(b)
	b.ReportAllocs()
	posthogtest.Compare(b, deliveredRound,
		"bare", func() time.Duration { return deliverBare(b, srv.URL, deliveredRound) },
		"tracker", func() time.Duration { return deliverTracked(b, srv.URL, deliveredRound) })
}

// deliverBare sends n events through a bare posthog-go client.
func deliverBare(b *testing.B, endpoint string, n int) time.Duration {
	cb := &posthogtest.Counter{}
	c := newBareClient(b, endpoint, cb)
	start := time.Now()
	for range n {
		for c.Enqueue(bareCapture()) == ph.ErrQueueFull {
			runtime.Gosched()
		}
	}
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if got := cb.Sent.Load(); got != int64(n) {
		b.Fatalf("bare client delivered %d of %d (%d failed)", got, n, cb.Failed.Load())
	}
	return elapsed
}

// deliverTracked sends n events through a tracker with the PostHog sink.
func deliverTracked(b *testing.B, endpoint string, n int) time.Duration {
	s, err := New(testKey, WithEndpoint(endpoint))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("posthog", s,
		tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	for range n {
		tr.Capture(ctx, tracker.Event{Name: "query_initiated", DistinctID: "org_42", Groups: benchGroups, Properties: benchProps})
	}
	if err := tr.Close(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if st := s.Stats(); st.Sent != uint64(n) {
		b.Fatalf("tracker delivered %d of %d: %+v", st.Sent, n, st)
	}
	return elapsed
}

// benchQueueMax bounds the tracker's queue in BenchmarkCaller (memory).
const benchQueueMax = 1 << 18

// BenchmarkCaller measures what the calling goroutine pays per event:
// tracker.Capture (the PostHog sink encodes on its worker) versus posthog-go's
// Enqueue (which encodes JSON on the caller). Events a queue could not hold
// are dropped and reported as dropped/op: run with -benchtime=200000x so that
// none are. (posthog-go's Enqueue encodes before it finds its queue full, so
// drops do not make it cheaper.)
func BenchmarkCaller(b *testing.B) {
	b.Run("tracker.Capture", func(b *testing.B) {
		srv := posthogtest.NewDiscardServer(b)
		s, err := New(testKey, WithEndpoint(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		// A queue that holds the whole run (up to benchQueueMax): the caller
		// pays for keeping the event, not for dropping it.
		tr, err := tracker.New(tracker.WithSink("posthog", s,
			tracker.WithQueueSize(min(max(b.N, tracker.DefaultQueueSize), benchQueueMax))))
		if err != nil {
			b.Fatal(err)
		}
		ctx := tracker.WithOrganization(context.Background(), "org_42")
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tr.Capture(ctx, tracker.Event{Name: "query_initiated", Properties: benchProps})
			}
		})
		b.StopTimer()
		st := tr.Stats().Sinks["posthog"]
		b.ReportMetric(float64(st.Dropped.Total())/float64(b.N), "dropped/op")
		closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tr.Close(closeCtx)
	})
	b.Run("posthog-go.Enqueue", func(b *testing.B) {
		srv := posthogtest.NewDiscardServer(b)
		cb := &posthogtest.Counter{}
		c := newBareClient(b, srv.URL, cb)
		var full atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if c.Enqueue(bareCapture()) == ph.ErrQueueFull {
					full.Add(1)
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(full.Load())/float64(b.N), "dropped/op")
		closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.CloseWithContext(closeCtx)
	})
}

// BenchmarkCloseHealthy measures what Close costs when the endpoint answers
// 200 at once: with closeBatch events still in posthog-go's buffer (Close
// sends them), and with none left (Flush saw them delivered). ns/op is Close
// alone; creating the sink, writing and flushing are not timed.
func BenchmarkCloseHealthy(b *testing.B) {
	const closeBatch = 100
	for _, tc := range []struct {
		name     string
		interval time.Duration
	}{{"buffered", time.Hour}, {"nothing-left", 5 * time.Millisecond}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := posthogtest.NewDiscardServer(b)
			events := makeEvents(closeBatch)
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				s, err := New(testKey, WithEndpoint(srv.URL), WithInterval(tc.interval))
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Write(context.Background(), events); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if tc.interval < time.Second {
					if err := s.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				err = s.Close(ctx)
				b.StopTimer()
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if st := s.Stats(); st.Sent != closeBatch {
					b.Fatalf("Stats = %+v", st)
				}
			}
		})
	}
}
