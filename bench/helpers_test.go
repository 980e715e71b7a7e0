package bench_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// discardSink accepts every batch.
type discardSink struct{}

func (discardSink) Write(context.Context, []tracker.Event) error { return nil }
func (discardSink) Close(context.Context) error                  { return nil }

// newTracker returns a tracker with n sinks that discard what they get
// (the "3 sinks" of the comparisons), closed when tb ends.
func newTracker(tb testing.TB, n int, opts ...tracker.Option) *tracker.Tracker {
	tb.Helper()
	return newTrackerWith(tb, n, nil, opts...)
}

// quietSinks are the options of sinks whose workers sleep through an
// allocation count: a batch and an interval it does not reach.
func quietSinks() []tracker.SinkOption {
	return []tracker.SinkOption{tracker.WithQueueSize(1 << 16), tracker.WithBatchSize(1 << 16), tracker.WithFlushInterval(time.Hour)}
}

// newTrackerWith is newTracker with sinkOpts for each sink.
func newTrackerWith(tb testing.TB, n int, sinkOpts []tracker.SinkOption, opts ...tracker.Option) *tracker.Tracker {
	tb.Helper()
	for i := range n {
		opts = append(opts, tracker.WithSink([]string{"posthog", "file", "stdout", "nats"}[i], discardSink{}, sinkOpts...))
	}
	tr, err := tracker.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}
