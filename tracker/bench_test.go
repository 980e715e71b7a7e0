package tracker_test

import (
	"context"
	"testing"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

// newBenchTracker is a tracker with sinks sinks that discard what they get,
// closed when b ends.
func newBenchTracker(b *testing.B, sinks int, opts ...tracker.Option) *tracker.Tracker {
	b.Helper()
	names := []string{"posthog", "file", "stdout"}
	for i := 0; i < sinks; i++ {
		opts = append(opts, tracker.WithSink(names[i], noop.New()))
	}
	tr, err := tracker.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

func BenchmarkCapture(b *testing.B) {
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	for _, n := range []int{0, 1, 3} {
		b.Run(sinksName(n), func(b *testing.B) {
			tr := newBenchTracker(b, n)
			e := bench.Event()
			b.ReportAllocs()
			for b.Loop() {
				tr.Capture(ctx, e)
			}
		})
		b.Run(sinksName(n)+"/parallel", func(b *testing.B) {
			tr := newBenchTracker(b, n)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				e := bench.Event()
				for pb.Next() {
					tr.Capture(ctx, e)
				}
			})
		})
	}
	b.Run("sampled_out/3_sinks", func(b *testing.B) {
		tr := newBenchTracker(b, 3, tracker.WithSampler(tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return false, 1 })))
		e := bench.Event()
		b.ReportAllocs()
		for b.Loop() {
			tr.Capture(ctx, e)
		}
	})
	b.Run("queue_full/3_sinks", func(b *testing.B) {
		// Sinks that never drain: after the first 16 events every Capture
		// takes the drop path.
		var opts []tracker.Option
		release := make(chan struct{})
		for _, name := range []string{"a", "b", "c"} {
			opts = append(opts, tracker.WithSink(name, stuckSink{release}, tracker.WithQueueSize(16), tracker.WithBatchSize(16)))
		}
		tr, err := tracker.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		e := bench.Event()
		b.ReportAllocs()
		for b.Loop() {
			tr.Capture(ctx, e)
		}
		b.StopTimer()
		close(release)
		_ = tr.Close(context.Background())
	})
	b.Run("nil_tracker", func(b *testing.B) {
		var tr *tracker.Tracker
		e := bench.Event()
		b.ReportAllocs()
		for b.Loop() {
			tr.Capture(ctx, e)
		}
	})
}

type stuckSink struct{ release chan struct{} }

func (s stuckSink) Write(ctx context.Context, _ []tracker.Event) error {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}
func (stuckSink) Close(context.Context) error { return nil }

func sinksName(n int) string {
	return map[int]string{0: "0_sinks", 1: "1_sink", 3: "3_sinks"}[n]
}
