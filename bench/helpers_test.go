package bench_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// growQueues captures 4096 events into tr and flushes them, twice (a
// worker takes its queue's buffer whole and gives back its spare): its
// sinks' queues, which grow on demand and never shrink, then take the events
// of an allocation count (bench.ReportAllocs: 1001 calls) without growing,
// so that the count is Capture's own, not that of a queue filling because
// its worker sleeps through the count.
func growQueues(tb testing.TB, tr *tracker.Tracker) {
	tb.Helper()
	for range 2 {
		capturing(tr).Run(4096)
		if err := tr.Flush(context.Background()); err != nil {
			tb.Fatal(err)
		}
	}
}

// newTrackerWith is newTracker with sinkOpts for each sink.
func newTrackerWith(tb testing.TB, n int, sinkOpts []tracker.SinkOption, opts ...tracker.Option) *tracker.Tracker {
	tb.Helper()
	for i := range n {
		opts = append(opts, tracker.WithSink([]string{"posthog", "file", "stdout", "nats"}[i], noop.New(), sinkOpts...))
	}
	tr, err := tracker.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

// uuidV4 is the version 4 UUID (RFC 9562 variant) of two random words.
func uuidV4(hi, lo uint64) string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], hi)
	binary.BigEndian.PutUint64(u[8:], lo)
	u[6], u[8] = 0x40|u[6]&0x0f, 0x80|u[8]&0x3f
	return u.String()
}
