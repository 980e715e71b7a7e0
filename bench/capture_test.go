package bench_test

import (
	"io"
	"testing"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// zerologSampledOut is the anchor of a sampled-out Capture: zerolog's event
// with the same five fields, which its BasicSampler drops (zerolog decides
// before it builds the event).
func zerologSampledOut() bench.Side {
	l := zerolog.New(io.Discard).Sample(&zerolog.BasicSampler{N: 1 << 30})
	bench.ZerologLine(&l) // the sampler keeps the first event
	return bench.Side{Name: "zerolog", Run: func(n int) {
		for range n {
			bench.ZerologLine(&l)
		}
	}}
}

// capturing is a Side that captures the benchmark event n times with tr.
func capturing(tr *tracker.Tracker) bench.Side {
	ctx, e := bench.OrgContext(), bench.Event()
	return bench.Side{Name: "multitrack", Run: func(n int) {
		for range n {
			tr.Capture(ctx, e)
		}
	}}
}

// BenchmarkSampledOut compares Capture of an event its sampler drops with
// zerolog's sampled-out event (target: ≤ 1.0×, 0 allocs). The tracker has
// three sinks and the organization comes from the context, as in a service;
// the samplers are what MULTITRACK_SAMPLE builds:
//   - ratio: a ratio keeping 1 in 10,000, deciding on the event's UUID
//     (sampling.NewRatio), the usual way to thin a flood;
//   - spec: "query_failed=1,query_*=0.0001", rules picking that ratio;
//   - never: sampling.Never;
//   - rate_by_org: at most 1 an hour per organization, which reads the
//     organization, so Capture resolves it before deciding;
//   - func: a SamplerFunc, which does not say what it reads, so Capture
//     resolves the event fully before deciding (the path before samplers
//     could say so).
func BenchmarkSampledOut(b *testing.B) {
	for _, tc := range []struct {
		name    string
		sampler func() (tracker.Sampler, error)
	}{
		{"ratio", func() (tracker.Sampler, error) { return sampling.NewRatio(0.0001) }},
		{"spec", func() (tracker.Sampler, error) { return sampling.ParseSpec("query_failed=1,query_*=0.0001") }},
		{"never", func() (tracker.Sampler, error) { return sampling.Never{}, nil }},
		{"rate_by_org", func() (tracker.Sampler, error) { return sampling.ParseSpec("query_initiated=rate:1/h:by=org") }},
		{"func", func() (tracker.Sampler, error) {
			return tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return false, 1 }), nil
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := tc.sampler()
			if err != nil {
				b.Fatal(err)
			}
			tr := newTracker(b, 3, tracker.WithSampler(s))
			anchor, subject := zerologSampledOut(), capturing(tr)
			bench.Compare(b, 1<<14, false, anchor, subject)
			bench.ReportAllocs(b, "allocs/op", func() { subject.Run(1) })
			bench.ReportAllocs(b, "anchor-allocs/op", func() { anchor.Run(1) })
			if st := tr.Stats(); st.Kept > st.Captured/1000+2 {
				b.Fatalf("kept %d of %d: the benchmark measures the sampled-out path", st.Kept, st.Captured)
			}
		})
	}
}

// BenchmarkCapture compares Capture of the five-property event into three
// sinks (their workers drain them on the other cores) with zerolog writing
// one line of the same five fields to io.Discard (target: ≤ 2.0×, ≤ 1
// alloc). Capture also stamps the event with the time, which the plain
// zerolog line does not: "vs_zerolog_timestamp" compares with a zerolog
// line that carries the time too.
func BenchmarkCapture(b *testing.B) {
	for _, tc := range []struct {
		name   string
		logger zerolog.Logger
	}{
		{"3_sinks_vs_zerolog", zerolog.New(io.Discard)},
		{"3_sinks_vs_zerolog_timestamp", zerolog.New(io.Discard).With().Timestamp().Logger()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tr := newTracker(b, 3)
			l := tc.logger
			line := bench.Side{Name: "zerolog", Run: func(n int) {
				for range n {
					bench.ZerologLine(&l)
				}
			}}
			bench.Compare(b, 1<<11, false, line, capturing(tr))
			// The caller's allocations, with workers that sleep through
			// the count (they write the UUIDs' texts, one per sink).
			qt := newTrackerWith(b, 3, quietSinks())
			growQueues(b, qt)
			quiet := capturing(qt)
			bench.ReportAllocs(b, "allocs/op", func() { quiet.Run(1) })
			bench.ReportAllocs(b, "anchor-allocs/op", func() { line.Run(1) })
		})
	}
}
