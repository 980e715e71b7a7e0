package bench_test

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/bench"
)

func TestPercentileIsTheNearestRank(t *testing.T) {
	var l bench.Latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 99.9: 100, 100: 100, 1: 1, 0.1: 1} {
		if got := l.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := bench.Latencies(nil).Percentile(99.9); got != 0 {
		t.Errorf("p99.9 of nothing = %v", got)
	}
}

// A load makes its calls from every goroutine, as many as its rate and
// duration say, and times each.
func TestLoadMakesItsCallsOnSchedule(t *testing.T) {
	var calls [3]atomic.Int64
	ld := bench.Load{Rate: 3000, Goroutines: 3, Duration: 100 * time.Millisecond}
	start := time.Now()
	each := ld.RunEach(func(g int) { calls[g].Add(1) })
	if took := time.Since(start); took < 90*time.Millisecond {
		t.Errorf("the load took %v, want its 100ms", took)
	}
	for g := range calls {
		if n := calls[g].Load(); n != 100 || len(each[g]) != 100 {
			t.Errorf("goroutine %d: %d calls, %d timed; want 100", g, n, len(each[g]))
		}
	}
}

// Results are Go benchmark lines, which benchstat reads.
func TestResultIsABenchmarkLine(t *testing.T) {
	var buf bytes.Buffer
	r := bench.Result{Name: "Latency/x", N: 10, Metrics: []bench.Metric{{Value: 1234.5, Unit: "p99.9-ns"}, {Value: 0.25, Unit: "x-anchor"}}}
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "BenchmarkLatency/x 10 1234.5 p99.9-ns 0.25 x-anchor\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
