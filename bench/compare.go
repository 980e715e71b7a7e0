package bench

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"
)

// Side is one of the two things a comparison runs: Run does n events' worth
// of work on the calling goroutine, and returns once it is done (for a
// pipeline, once the events are where the side delivers them). Prepare,
// when set, runs before each Run, untimed (filling a stream to read, say).
type Side struct {
	Name    string
	Run     func(n int)
	Prepare func(n int)
}

// measure is what one side spent on its events.
type measure struct {
	wall, cpu     time.Duration
	allocs, bytes uint64
}

// Compare runs anchor and subject alternately, chunk events at a time, their
// order swapped every round, until each has done b.N events; the caller's
// goroutine stays on one OS thread. It reports, per event, the subject's
// wall time, CPU time and allocations as ns/op, cpu-ns/op, allocs/op and
// B/op, the anchor's as anchor-ns/op, anchor-cpu-ns/op, anchor-allocs/op and
// anchor-B/op, and the ratios subject/anchor as x-anchor (wall) and
// cpu-x-anchor (CPU), each the median of the rounds' ratios, so that a burst
// of load elsewhere skews one round, not the figure. CPU time is the
// capturing thread's (ThreadCPU) unless procCPU is set: then it is the whole
// process's (ProcessCPU), the subject's worker goroutines included, and so
// are the allocations reported (runtime/metrics): a side whose background
// work ends within its Run (a pipeline's, up to Flush or Close) gets its
// own. Without procCPU, Compare reports no allocations (the other side's
// background work would be counted in): the caller measures each side's
// with ReportAllocs, or -benchmem prints the testing package's figures for
// the whole benchmark, both sides together. It returns the subject's and
// the anchor's wall time per event.
func Compare(b *testing.B, chunk int, procCPU bool, anchor, subject Side) (subjectPer, anchorPer time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := ThreadCPU
	if procCPU {
		cpu = ProcessCPU
	}
	var total [2]measure
	var ratios, cpuRatios []float64
	sides := [2]Side{anchor, subject}
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		n := min(chunk, b.N-done)
		var m [2]measure
		for k := range 2 {
			i := k ^ round&1
			m[i] = run(sides[i], n, cpu)
		}
		for i := range 2 {
			total[i].add(m[i])
		}
		ratios = append(ratios, ratio(m[1].wall, m[0].wall))
		cpuRatios = append(cpuRatios, ratio(m[1].cpu, m[0].cpu))
		done += n
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) }
	b.ReportMetric(per(total[1].wall), "ns/op")
	b.ReportMetric(per(total[0].wall), "anchor-ns/op")
	if _, ok := cpu(); ok {
		b.ReportMetric(per(total[1].cpu), "cpu-ns/op")
		b.ReportMetric(per(total[0].cpu), "anchor-cpu-ns/op")
		b.ReportMetric(median(cpuRatios), "cpu-x-anchor")
	}
	b.ReportMetric(median(ratios), "x-anchor")
	if procCPU {
		b.ReportMetric(float64(total[1].allocs)/float64(b.N), "allocs/op")
		b.ReportMetric(float64(total[1].bytes)/float64(b.N), "B/op")
		b.ReportMetric(float64(total[0].allocs)/float64(b.N), "anchor-allocs/op")
		b.ReportMetric(float64(total[0].bytes)/float64(b.N), "anchor-B/op")
	}
	return total[1].wall / time.Duration(b.N), total[0].wall / time.Duration(b.N)
}

// ReportAllocs reports as unit (allocs/op, anchor-allocs/op) how many
// times one call of f allocates, and as the matching B/op (B/op,
// anchor-B/op) how many bytes, measured as testing.AllocsPerRun measures
// (the average of 1000 calls after one to warm up, GOMAXPROCS 1, rounded
// down). It counts the whole process: set f up so that nothing else
// allocates meanwhile (a tracker whose workers sleep through it: a batch and
// an interval it does not reach).
func ReportAllocs(b *testing.B, unit string, f func()) {
	const runs = 1000
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64((after.Mallocs-before.Mallocs)/runs), unit)
	b.ReportMetric(float64((after.TotalAlloc-before.TotalAlloc)/runs), strings.TrimSuffix(unit, "allocs/op")+"B/op")
}

func run(s Side, n int, cpu func() (time.Duration, bool)) measure {
	if s.Prepare != nil {
		s.Prepare(n)
	}
	a0, b0 := heapAllocs()
	c0, _ := cpu()
	t0 := time.Now()
	s.Run(n)
	wall := time.Since(t0)
	c1, _ := cpu()
	a1, b1 := heapAllocs()
	return measure{wall: wall, cpu: c1 - c0, allocs: a1 - a0, bytes: b1 - b0}
}

func (m *measure) add(o measure) {
	m.wall += o.wall
	m.cpu += o.cpu
	m.allocs += o.allocs
	m.bytes += o.bytes
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var allocSamples = []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}

// heapAllocs returns the heap objects and bytes allocated so far. Reading
// runtime/metrics stops nothing; small allocations are counted a span at a
// time, so a short window is off by up to a span, a long run is not.
func heapAllocs() (objects, bytes uint64) {
	metrics.Read(allocSamples)
	return allocSamples[0].Value.Uint64(), allocSamples[1].Value.Uint64()
}
