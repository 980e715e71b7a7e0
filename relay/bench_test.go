package relay_test

import (
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/sinks/file"
)

// BenchmarkRelayIntoFileSink measures events/s from the stream (already
// filled, one in-process server) through the relay into a file sink, until
// every message is acknowledged.
func BenchmarkRelayIntoFileSink(b *testing.B) {
	srv := natstest.Run(b)
	publish(b, srv.ClientURL(), testEvents(b.N, "query_initiated"))
	sink, err := file.New(b.TempDir()+"/events.jsonl", file.WithMaxSizeMB(0))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	r := startRelay(b, srv.ClientURL(), sink)
	for r.Stats().Delivered < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	if err := r.stop(b); err != nil {
		b.Fatal(err)
	}
}
