package sampling_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// benchEvents are realistic events: 64 organizations, one much noisier,
// each with a trace_id, cycled through by the benchmarks.
var benchEvents = func() []tracker.Event {
	rng := rand.New(rand.NewPCG(1, 1))
	events := make([]tracker.Event, 1024)
	for i := range events {
		org := fmt.Sprintf("org_%02d", rng.IntN(64))
		if i%2 == 0 {
			org = heavyOrg
		}
		name := "query_initiated"
		if i%16 == 0 {
			name = "query_failed"
		}
		events[i] = event(rng, name, org)
		events[i].Properties = map[string]any{"trace_id": uuidFor(rng.Uint64()), "user": "alice"}
	}
	return events
}()

var keptSink int

// benchDecide measures decide, called with a growing index, serially and
// from GOMAXPROCS goroutines. Every benchmark goes through it, so the cost
// of the call through decide is the same for all.
func benchDecide(b *testing.B, decide func(i int) bool) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		kept := 0
		for i := 0; b.Loop(); i++ {
			if decide(i) {
				kept++
			}
		}
		keptSink = kept
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			kept := 0
			for i := 0; pb.Next(); i++ {
				if decide(i) {
					kept++
				}
			}
			keptSink = kept
		})
	})
}

func benchSampler(b *testing.B, s tracker.Sampler) {
	benchDecide(b, func(i int) bool {
		keep, _ := s.Sample(benchEvents[i&1023])
		return keep
	})
}

func BenchmarkSample(b *testing.B) {
	for _, tc := range []struct{ name, spec string }{
		{"always", "*=1"},
		{"ratio", "*=0.01"},
		{"ratio_by_org", "*=ratio:0.01:by=org"},
		{"ratio_by_trace_id", "*=ratio:0.01:by=trace_id"},
		{"rules", "query_failed=1,query_*=0.01"},
		{"rules_glob", "*_failed=1,job_*=0,query_*=0.01,*=never"},
		{"rules_routing_only", "query_failed=1,job_*=0,query_*=1,*=never"},
		{"rate_global", "*=rate:1000/s"},
		{"rate_by_org", "*=rate:100/s:by=org"},
		{"burst", "*=burst:100/s:then=0.01"},
		{"burst_by_org", "*=burst:100/s:then=0.01:by=org"},
		{"dynamic_by_org", "*=dynamic:100/s:by=org"},
	} {
		s, err := sampling.ParseSpec(tc.spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) { benchSampler(b, s) })
	}
}

// BenchmarkClock is the cost of the clock read each stateful Sample makes.
func BenchmarkClock(b *testing.B) {
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		n += time.Now().UnixNano()
	}
	keptSink = int(n)
}

// BenchmarkUUIDRandom is the part of Ratio's cost that parses the key out of
// an event's UUID string; during Capture the tracker hands samplers the key
// before the UUID is formatted, without parsing.
func BenchmarkUUIDRandom(b *testing.B) {
	b.ReportAllocs()
	var x uint64
	for i := 0; b.Loop(); i++ {
		x += benchEvents[i&1023].UUIDRandom()
	}
	keptSink = int(x)
}
