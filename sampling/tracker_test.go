package sampling_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// TestTrackerEndToEnd runs a spec through a real Tracker into a Recorder:
// every failure is kept without $sample_rate, about p of the query starts are
// kept and carry $sample_rate = p, and the caller's map is left alone.
func TestTrackerEndToEnd(t *testing.T) {
	const p, starts, failures = 0.1, 5000, 200
	s, err := sampling.ParseSpec(fmt.Sprintf("query_initiated=%v,query_failed=1,*=1", p))
	if err != nil {
		t.Fatal(err)
	}
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(s))
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	props := map[string]any{"user": "alice"}
	for i := range starts {
		tr.Capture(ctx, tracker.Event{Name: "query_initiated", Properties: props})
		if i%(starts/failures) == 0 {
			tr.Capture(ctx, tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01"}})
		}
	}
	flush(t, tr)

	if _, mutated := props[tracker.PropSampleRate]; mutated || len(props) != 1 {
		t.Errorf("the caller's properties were modified: %v", props)
	}
	failed := rec.Named("query_failed")
	if len(failed) != failures {
		t.Errorf("kept %d of %d query_failed, want all", len(failed), failures)
	}
	for _, e := range failed {
		if r, ok := e.Properties[tracker.PropSampleRate]; ok {
			t.Fatalf("a query_failed kept at rate 1 carries %s = %v", tracker.PropSampleRate, r)
		}
	}
	kept := rec.Named("query_initiated")
	if math.Abs(float64(len(kept))-p*starts) > binomialBound(starts, p) {
		t.Errorf("kept %d of %d query_initiated, want %.0f ± %.1f", len(kept), starts, p*starts, binomialBound(starts, p))
	}
	for _, e := range kept {
		if r := e.Properties[tracker.PropSampleRate]; r != p {
			t.Fatalf("kept query_initiated has %s = %v, want %v", tracker.PropSampleRate, r, p)
		}
		if e.Properties["user"] != "alice" || e.Groups[tracker.GroupOrganization] != "org_42" {
			t.Fatalf("kept event lost its properties or organization: %+v", e)
		}
	}
	st := tr.Stats()
	if st.SampledOut != uint64(starts-len(kept)) || st.Kept != uint64(len(kept)+failures) {
		t.Errorf("stats: sampled out %d, kept %d; recorder saw %d kept", st.SampledOut, st.Kept, len(kept)+failures)
	}
}

// TestTrackerRatioDecidesOnTheUUIDItGives: a ratio through the tracker
// decides on the random key of the UUID the event then gets (drawn before
// the decision, formatted after it), so that the same ratio sampling the
// kept events again, in a relay or a replay, keeps every one of them.
func TestTrackerRatioDecidesOnTheUUIDItGives(t *testing.T) {
	r, err := sampling.NewRatio(0.3)
	if err != nil {
		t.Fatal(err)
	}
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(r))
	const n = 2000
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	for range n {
		tr.Capture(ctx, tracker.Event{Name: "query_initiated"})
	}
	flush(t, tr)
	kept := rec.Events()
	if math.Abs(float64(len(kept))-0.3*n) > binomialBound(n, 0.3) {
		t.Errorf("kept %d of %d", len(kept), n)
	}
	for _, e := range kept {
		again := tracker.Event{Name: e.Name, UUID: e.UUID} // as a relay reads it back
		if keep, _ := r.Sample(again); !keep {
			t.Fatalf("%s was kept, and is dropped when sampled again", e.UUID)
		}
	}
}

// TestTrackerKeyedByTraceID: a ratio keyed by trace_id keeps the start and
// the failure of the same query together, through the tracker.
func TestTrackerKeyedByTraceID(t *testing.T) {
	s, err := sampling.ParseSpec("query_*=ratio:0.3:by=trace_id")
	if err != nil {
		t.Fatal(err)
	}
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(s))
	const queries = 2000
	for i := range queries {
		trace := fmt.Sprintf("trace-%d", i)
		tr.Capture(context.Background(), tracker.Event{Name: "query_initiated", Properties: map[string]any{"trace_id": trace}})
		tr.Capture(context.Background(), tracker.Event{Name: "query_failed", Properties: map[string]any{"trace_id": trace}})
	}
	flush(t, tr)
	started := map[any]bool{}
	for _, e := range rec.Named("query_initiated") {
		started[e.Properties["trace_id"]] = true
	}
	failed := rec.Named("query_failed")
	if len(failed) != len(started) {
		t.Errorf("kept %d starts and %d failures; a trace is kept whole", len(started), len(failed))
	}
	for _, e := range failed {
		if !started[e.Properties["trace_id"]] {
			t.Fatalf("failure of %v kept without its start", e.Properties["trace_id"])
		}
	}
	if math.Abs(float64(len(started))-0.3*queries) > binomialBound(queries, 0.3) {
		t.Errorf("kept %d of %d traces", len(started), queries)
	}
}

func flush(t *testing.T, tr *tracker.Tracker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkTrackerSampledOut is the tracker's Capture path for an event a
// sampler drops: the sampler decides on the random key drawn before the UUID
// is formatted, so nothing is allocated.
func BenchmarkTrackerSampledOut(b *testing.B) {
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	props := map[string]any{"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
	for _, tc := range []struct{ name, spec string }{
		{"never", "query_initiated=0"},
		{"ratio", "query_initiated=ratio:0"},
		{"ratio_by_trace_id", "query_initiated=ratio:0:by=trace_id"},
		{"rules_glob_ratio", "query_failed=1,job_*=1,query_*=ratio:0"},
		{"rate_by_org", "query_initiated=rate:1/h:by=org"},
		{"dynamic_by_org", "query_initiated=dynamic:1/h:by=org"},
	} {
		s, err := sampling.ParseSpec(tc.spec)
		if err != nil {
			b.Fatal(err)
		}
		tr, rec := trackertest.NewTracker(b, tracker.WithSampler(s))
		e := tracker.Event{Name: "query_initiated", Properties: props}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tr.Capture(ctx, e)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tr.Capture(ctx, e)
				}
			})
		})
		if err := tr.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if st := tr.Stats(); st.Kept > 2 || rec.Len() > 2 {
			b.Fatalf("%s: kept %d events; the benchmark measures the sampled-out path", tc.name, st.Kept)
		}
	}
}
