// Command e2e runs the end-to-end comparisons that are not Go benchmarks:
// the latency a caller sees, under a sustained load delivered to a local
// PostHog endpoint, of tracker.Capture (PostHog sink) and of posthog-go's
// Enqueue, side by side, in alternating rounds. Beside the tracker's
// goroutines, one more makes empty calls on the same schedule: the floor,
// what timing a call and being descheduled cost on this machine under the
// same load. It prints Go benchmark lines (benchstat reads them) and a
// summary on stderr.
//
//	go run ./bench/cmd/e2e -rounds 3 -duration 5s -rate 20000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

// apiKey is a made-up project key: the endpoint is local.
const apiKey = "phc_e2e_benchmark"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 3, "rounds, each running both sides")
	duration := fs.Duration("duration", 5*time.Second, "how long each side runs in a round")
	rate := fs.Int("rate", 20000, "events a second, in all")
	goroutines := fs.Int("goroutines", 4, "goroutines capturing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *rate < 1 || *goroutines < 1 || *duration <= 0 {
		return fmt.Errorf("-rounds, -rate, -goroutines and -duration must be positive")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"status":1}`)
	}))
	defer srv.Close()

	load := bench.Load{Rate: *rate, Goroutines: *goroutines, Duration: *duration}
	fmt.Fprintf(stderr, "e2e: %d rounds of %v a side, %d events/s from %d goroutines, into a local PostHog endpoint; %s, GOMAXPROCS %d\n",
		*rounds, *duration, *rate, *goroutines, runtime.Version(), runtime.GOMAXPROCS(0))
	sides := []struct {
		name string
		run  func(bench.Load, string) (lat bench.Latencies, dropped uint64, floor bench.Latencies, err error)
	}{{"posthog-go_Enqueue", enqueueSide}, {"tracker_Capture", captureSide}}
	for r := range *rounds {
		var p999 [2]time.Duration
		var floor time.Duration
		for k := range sides {
			i := k ^ r&1 // alternate which side goes first
			runtime.GC()
			lat, dropped, empty, err := sides[i].run(load, srv.URL)
			if err != nil {
				return fmt.Errorf("%s: %w", sides[i].name, err)
			}
			p999[i] = lat.Percentile(99.9)
			if err := latencyResult(sides[i].name, lat, float64(dropped)/float64(len(lat))).Write(stdout); err != nil {
				return err
			}
			if empty != nil {
				floor = empty.Percentile(99.9)
				if err := latencyResult("empty_call_beside_tracker", empty, 0).Write(stdout); err != nil {
					return err
				}
			}
		}
		ratio := bench.Result{Name: "Latency/tracker_Capture_vs_posthog-go_Enqueue", N: 1, Metrics: []bench.Metric{
			{Value: float64(p999[1]) / float64(p999[0]), Unit: "p99.9-x-anchor"},
		}}
		if err := ratio.Write(stdout); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "e2e: round %d: p99.9 Capture %v, Enqueue %v: 1/%.0f (an empty call beside Capture: %v)\n",
			r+1, p999[1], p999[0], float64(p999[0])/float64(p999[1]), floor)
	}
	return nil
}

// latencyResult is a side's latencies as a benchmark line.
func latencyResult(name string, lat bench.Latencies, droppedPerOp float64) bench.Result {
	return bench.Result{Name: "Latency/" + name, N: len(lat), Metrics: []bench.Metric{
		{Value: float64(lat.Percentile(50)), Unit: "p50-ns"},
		{Value: float64(lat.Percentile(99)), Unit: "p99-ns"},
		{Value: float64(lat.Percentile(99.9)), Unit: "p99.9-ns"},
		{Value: float64(lat.Percentile(100)), Unit: "max-ns"},
		{Value: droppedPerOp, Unit: "dropped/op"},
	}}
}

// enqueueSide sends the load through a bare posthog-go client, configured
// as the PostHog sink configures it, and returns its Enqueue latencies and
// how many Enqueue refused (a full queue).
func enqueueSide(load bench.Load, endpoint string) (bench.Latencies, uint64, bench.Latencies, error) {
	c, err := ph.NewWithConfig(apiKey, ph.Config{Endpoint: endpoint, Compression: ph.CompressionGzip, Logger: bench.QuietLogger{}})
	if err != nil {
		return nil, 0, nil, err
	}
	var full atomic.Uint64
	lat := load.Run(func(int) {
		if c.Enqueue(bench.BareCapture()) != nil {
			full.Add(1)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return lat, full.Load(), nil, c.CloseWithContext(ctx)
}

// captureSide sends the load through a tracker with the PostHog sink
// (default queue and overflow: drop the newest) and returns the Capture
// latencies, how many events a full queue dropped, and the latencies of
// one more goroutine, on the same schedule, making empty calls.
func captureSide(load bench.Load, endpoint string) (bench.Latencies, uint64, bench.Latencies, error) {
	sink, err := posthog.New(apiKey, posthog.WithEndpoint(endpoint))
	if err != nil {
		return nil, 0, nil, err
	}
	tr, err := tracker.New(tracker.WithSink("posthog", sink))
	if err != nil {
		return nil, 0, nil, err
	}
	ctx, e := bench.OrgContext(), bench.Event()
	g := load.Goroutines
	load.Rate += load.Rate / g // the same rate for the one more goroutine
	load.Goroutines++
	var calls atomic.Uint64
	each := load.RunEach(func(i int) {
		if i == g {
			calls.Add(1)
			return
		}
		tr.Capture(ctx, e)
	})
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = tr.Close(closeCtx)
	st := tr.Stats().Sinks["posthog"]
	return slices.Concat(each[:g]...), st.Dropped.Total(), each[g], err
}
