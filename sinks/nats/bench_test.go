package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/natstest"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

// BenchmarkCaptureIntoStream measures events/s from Capture through the
// nats sink into a JetStream stream (file storage, one in-process server),
// until Close has every ack.
func BenchmarkCaptureIntoStream(b *testing.B) {
	srv := natstest.Run(b)
	sink, err := natssink.New(natssink.WithConfig(natssink.Config{URL: srv.ClientURL()}))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("nats", sink,
		tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(10*time.Second)))
	if err != nil {
		b.Fatal(err)
	}
	e := tracker.Event{Name: "query_initiated", DistinctID: "org_42", Groups: map[string]string{"organization": "org_42"},
		Properties: map[string]any{"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "statement_type": "select"}}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		tr.Capture(context.Background(), e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if st := sink.Stats(); st.Published != uint64(b.N) {
		b.Fatalf("published %d of %d", st.Published, b.N)
	}
}
