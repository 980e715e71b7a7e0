package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/tracker"
)

// replayBenchEvents is how many events each round of BenchmarkReplay sends.
const replayBenchEvents = 20000

// BenchmarkReplay measures replay's throughput into a local PostHog at
// default settings, side by side with a bare posthog-go client sending the
// same events from the same file to the same endpoint: it reads the file
// with the same reader, enqueues each event (retrying on ErrQueueFull), and
// closes, which sends what it buffers. Each of the b.N rounds times both,
// in alternating order; replay/bare is the median over rounds of the two
// rates' ratio. Run with -benchtime=10x or more: ns/op is per round.
func BenchmarkReplay(b *testing.B) {
	srv := posthogtest.NewDiscardServer(b)
	in, _ := writeEventFile(b, b.TempDir(), replayBenchEvents)
	env := map[string]string{"POSTHOG_API_KEY": "phc_bench", "POSTHOG_HOST": srv.URL}
	var bare, replayed time.Duration
	ratios := make([]float64, 0, b.N)
	b.ReportAllocs()
	for i := range b.N {
		var tb, tr time.Duration
		if i%2 == 0 {
			tb = replayBare(b, srv.URL, in)
			tr = replayCommandOnce(b, env, in)
		} else {
			tr = replayCommandOnce(b, env, in)
			tb = replayBare(b, srv.URL, in)
		}
		bare, replayed = bare+tb, replayed+tr
		ratios = append(ratios, tb.Seconds()/tr.Seconds())
	}
	slices.Sort(ratios)
	n := float64(b.N * replayBenchEvents)
	b.ReportMetric(n/bare.Seconds(), "bare-events/s")
	b.ReportMetric(n/replayed.Seconds(), "replay-events/s")
	b.ReportMetric(ratios[len(ratios)/2], "replay/bare")
}

// countingCallback counts posthog-go's reports for the bare client.
type countingCallback struct{ sent, failed atomic.Int64 }

func (c *countingCallback) Success(ph.APIMessage)        { c.sent.Add(1) }
func (c *countingCallback) Failure(ph.APIMessage, error) { c.failed.Add(1) }

// replayBare sends the events of the file at path through a bare posthog-go
// client, configured as the sink configures it by default.
func replayBare(b *testing.B, endpoint, path string) time.Duration {
	start := time.Now()
	cb := &countingCallback{}
	c, err := ph.NewWithConfig("phc_bench", ph.Config{Endpoint: endpoint, Compression: ph.CompressionGzip, Callback: cb, Logger: quietLogger{}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := tracker.NewEventReader(f, path)
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
	if got := cb.sent.Load(); got != replayBenchEvents {
		b.Fatalf("bare client delivered %d of %d (%d failed)", got, replayBenchEvents, cb.failed.Load())
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

// quietLogger drops posthog-go's diagnostics.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Logf(string, ...any)   {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
