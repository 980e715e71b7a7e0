package bench_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// BenchmarkSampler compares the decision alone of multitrack's ratio
// sampler keeping 1%, on events' UUIDs, with OpenTelemetry's
// TraceIDRatioBased keeping 1% of trace ids ("vs_otel") and with zerolog's
// BasicSampler keeping 1 in 100 with a counter ("vs_zerolog").
func BenchmarkSampler(b *testing.B) {
	ratio, err := sampling.NewRatio(0.01)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	events := make([]tracker.Event, 1024)
	params := make([]sdktrace.SamplingParameters, len(events))
	for i := range events {
		events[i] = tracker.Event{Name: "query_initiated", UUID: uuidV4(rng.Uint64(), rng.Uint64())}
		var id oteltrace.TraceID
		for j := range id {
			id[j] = byte(rng.Uint32())
		}
		params[i] = sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id, Name: "query"}
	}
	var kept int
	multitrack := bench.Side{Name: "multitrack", Run: func(n int) {
		for i := range n {
			if keep, _ := ratio.Sample(events[i&1023]); keep {
				kept++
			}
		}
	}}
	b.Run("vs_otel", func(b *testing.B) {
		s := sdktrace.TraceIDRatioBased(0.01)
		otel := bench.Side{Name: "otel", Run: func(n int) {
			for i := range n {
				if s.ShouldSample(params[i&1023]).Decision == sdktrace.RecordAndSample {
					kept++
				}
			}
		}}
		bench.Compare(b, 1<<14, false, otel, multitrack)
		bench.ReportAllocs(b, "allocs/op", func() { multitrack.Run(1) })
		bench.ReportAllocs(b, "anchor-allocs/op", func() { otel.Run(1) })
	})
	b.Run("vs_zerolog", func(b *testing.B) {
		s := &zerolog.BasicSampler{N: 100}
		zl := bench.Side{Name: "zerolog", Run: func(n int) {
			for range n {
				if s.Sample(zerolog.InfoLevel) {
					kept++
				}
			}
		}}
		bench.Compare(b, 1<<14, false, zl, multitrack)
		bench.ReportAllocs(b, "allocs/op", func() { multitrack.Run(1) })
		bench.ReportAllocs(b, "anchor-allocs/op", func() { zl.Run(1) })
	})
}
