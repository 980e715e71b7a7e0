package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Latencies are the durations of calls, for percentiles.
type Latencies []time.Duration

// Percentile returns the p-th percentile (0 < p ≤ 100), nearest rank, of
// l, which it sorts.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	i := int(float64(len(l))*p/100+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// Load is a sustained, paced load: Goroutines goroutines make Rate calls a
// second in all, for Duration, each call timed on its own.
type Load struct {
	Rate       int
	Goroutines int
	Duration   time.Duration
}

// Run calls call(g) from each goroutine g on the load's schedule and
// returns the duration of every call. A goroutine that falls behind its
// schedule catches up without sleeping, so that the rate holds on average
// (open loop: a slow call does not lower the offered load).
func (ld Load) Run(call func(g int)) Latencies { return slices.Concat(ld.RunEach(call)...) }

// RunEach is Run, returning each goroutine's latencies apart.
func (ld Load) RunEach(call func(g int)) []Latencies {
	per := max(ld.Rate/ld.Goroutines, 1)
	interval := time.Second / time.Duration(per)
	n := int(int64(per) * int64(ld.Duration) / int64(time.Second))
	all := make([]Latencies, ld.Goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range ld.Goroutines {
		all[g] = make(Latencies, 0, n)
		wg.Go(func() {
			// Goroutines start staggered, so that their calls interleave.
			offset := interval * time.Duration(g) / time.Duration(ld.Goroutines)
			for i := range n {
				if d := time.Until(start.Add(offset + time.Duration(i)*interval)); d > 0 {
					time.Sleep(d)
				}
				t0 := time.Now()
				call(g)
				all[g] = append(all[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	return all
}

// Result is one line of Go benchmark output, so that benchstat reads the
// driver's figures as it reads the benchmarks'.
type Result struct {
	Name    string
	N       int
	Metrics []Metric
}

// Metric is a value and its unit, e.g. 1234 p99.9-ns.
type Metric struct {
	Value float64
	Unit  string
}

// Write writes r in the benchmark format: "BenchmarkName N value unit ...".
func (r Result) Write(w io.Writer) error {
	line := fmt.Sprintf("Benchmark%s %d", r.Name, r.N)
	for _, m := range r.Metrics {
		line += " " + strconv.FormatFloat(m.Value, 'g', -1, 64) + " " + m.Unit
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
