package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/posthogtest"
)

// replayBenchEvents is how many events each round of BenchmarkReplay sends.
const replayBenchEvents = 20000

// BenchmarkReplay measures replay's throughput into a local PostHog at
// default settings, side by side (bench.Compare) with a bare posthog-go
// client sending the same events from the same file to the same endpoint:
// it reads the file with the same reader, enqueues each event (retrying on
// ErrQueueFull), and closes, which sends what it buffers. ns/op is per round
// of replayBenchEvents events; events/s and anchor-events/s are the rates.
func BenchmarkReplay(b *testing.B) {
	srv := posthogtest.NewDiscardServer(b)
	in, _ := writeEventFile(b, b.TempDir(), replayBenchEvents)
	env := map[string]string{"POSTHOG_API_KEY": "phc_bench", "POSTHOG_HOST": srv.URL}
	rounds := func(f func()) func(int) {
		return func(n int) {
			for range n {
				f()
			}
		}
	}
	per, anchorPer := bench.Compare(b, 1, true,
		bench.Side{Name: "posthog-go", Run: rounds(func() { replayBare(b, srv.URL, in) })},
		bench.Side{Name: "replay", Run: rounds(func() { replayCommandOnce(b, env, in) })})
	b.ReportMetric(replayBenchEvents*float64(time.Second)/float64(per), "events/s")
	b.ReportMetric(replayBenchEvents*float64(time.Second)/float64(anchorPer), "anchor-events/s")
}

// replayBare sends the events of the file at path through a bare posthog-go
// client, configured as the sink configures it by default.
func replayBare(b *testing.B, endpoint, path string) time.Duration {
	start := time.Now()
	cb := &posthogtest.Counter{}
	c, err := ph.NewWithConfig("phc_bench", ph.Config{Endpoint: endpoint, Compression: ph.CompressionGzip, Callback: cb, Logger: bench.QuietLogger{}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := eventline.NewReader(f, path)
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		m := ph.Capture{Uuid: e.UUID, DistinctId: e.DistinctID, Event: e.Name, Timestamp: e.Timestamp, Properties: e.Properties, Groups: ph.Groups{}}
		for k, v := range e.Groups {
			m.Groups[k] = v
		}
		for c.Enqueue(m) == ph.ErrQueueFull {
			runtime.Gosched()
		}
	}
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if got := cb.Sent.Load(); got != replayBenchEvents {
		b.Fatalf("bare client delivered %d of %d (%d failed)", got, replayBenchEvents, cb.Failed.Load())
	}
	return elapsed
}

// replayCommandOnce runs multitrack replay on the file at path.
func replayCommandOnce(b *testing.B, env map[string]string, path string) time.Duration {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	start := time.Now()
	if err := m.Run(context.Background(), []string{"replay", "-q", path}); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
