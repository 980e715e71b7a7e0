package plan_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/tracker"
)

// benchEvent is a 5-property event that passes benchPlan.
var benchEvent = tracker.Event{Name: "query_failed", Properties: map[string]any{
	"user":           "alice",
	"trace_id":       "4bf92f3577b34da6a3ce929d0e0e4736",
	"sqlstate":       "42P01",
	"error_category": "undefined_table",
	"duration_ms":    1234,
}}

// benchPlan declares benchEvent's properties with a type each, an enum and
// a range, and no pattern (see BenchmarkCheckWithPatterns).
var benchPlan = plan.Plan{Events: []plan.Event{{
	Name: "query_failed",
	Properties: []plan.Property{
		{Name: "user", Type: plan.String, Required: true},
		{Name: "trace_id", Type: plan.String, Required: true},
		{Name: "sqlstate", Type: plan.String, Required: true},
		{Name: "error_category", Type: plan.String, Required: true, Enum: []string{"undefined_table", "syntax_error", "query_canceled", "disk_full"}},
		{Name: "duration_ms", Type: plan.Integer, Min: new(0.0)},
	},
}}}

// benchCheck checks e against c in a loop, failing on an unexpected count.
func benchCheck(b *testing.B, c *plan.Checker, e tracker.Event, want uint64) {
	b.ReportAllocs()
	for b.Loop() {
		if n := c.Check(e.Name, e.Properties, nil); n.Total() != want {
			b.Fatal(n)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	benchCheck(b, mustCompile(b, benchPlan), benchEvent, 0)
}

// BenchmarkCheckWithPatterns checks the demo plan's query_failed, whose
// trace_id and sqlstate have patterns.
func BenchmarkCheckWithPatterns(b *testing.B) {
	c, err := plan.Load("../testdata/plans/demo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	benchCheck(b, c, benchEvent, 0)
}

func BenchmarkCheckUnplanned(b *testing.B) {
	e := benchEvent
	e.Name = "query_started"
	benchCheck(b, mustCompile(b, benchPlan), e, 1)
}

func mustCompile(b *testing.B, p plan.Plan) *plan.Checker {
	b.Helper()
	c, err := plan.Compile(p)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// captureProps is the tracker's benchmark event: 5 properties.
var captureProps = map[string]any{
	"user":        "alice",
	"trace_id":    "4bf92f3577b34da6a3ce929d0e0e4736",
	"duration_ms": 12.5,
	"rows":        42,
	"cached":      false,
}

// capturePlan declares captureProps' types and bounds, and pattern for
// trace_id.
func capturePlan(pattern string) plan.Plan {
	return plan.Plan{Events: []plan.Event{{Name: "query_initiated", Properties: []plan.Property{
		{Name: "user", Type: plan.String, Required: true},
		{Name: "trace_id", Type: plan.String, Required: true, Pattern: pattern},
		{Name: "duration_ms", Type: plan.Number, Min: new(0.0)},
		{Name: "rows", Type: plan.Integer, Min: new(0.0)},
		{Name: "cached", Type: plan.Boolean},
	}}}}
}

// newCaptureTracker returns a tracker without sinks, enforcing p when it
// is not nil.
func newCaptureTracker(b *testing.B, p *plan.Plan) *tracker.Tracker {
	var opts []tracker.Option
	if p != nil {
		opts = append(opts, tracker.WithPlan(mustCompile(b, *p), tracker.PlanDrop))
	}
	tr, err := tracker.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close(context.Background()) })
	return tr
}

// BenchmarkCapture measures what enforcing a plan adds to Capture: the
// tracker's benchmark event (5 properties), without a plan, with a plan
// declaring each property's type and bounds, and with a pattern on trace_id
// too; compare them within one run. The tracker has no sink, so that no
// worker competes with the capturing goroutine for the CPU (on two cores
// that is most of the noise): what a plan adds does not depend on the sinks. On Linux it also reports
// cpu-ns/op, the CPU time of the capturing thread alone, which a machine
// busy with other work inflates far less than ns/op.
func BenchmarkCapture(b *testing.B) {
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	for _, tc := range []struct {
		name string
		plan *plan.Plan
	}{
		{"no_plan", nil},
		{"plan", new(capturePlan(""))},
		{"plan_with_pattern", new(capturePlan("[0-9a-f]{32}"))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tr := newCaptureTracker(b, tc.plan)
			e := tracker.Event{Name: "query_initiated", Properties: captureProps}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			start, measured := threadCPU()
			for b.Loop() {
				tr.Capture(ctx, e)
			}
			if end, ok := threadCPU(); measured && ok {
				b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
			}
			b.StopTimer()
			if s := tr.Stats(); s.Plan.Total() != 0 || s.Kept == 0 {
				b.Fatalf("stats %+v", s)
			}
		})
	}
}

// BenchmarkCapturePlanCost alternates, every 512 events, between a tracker
// without a plan, one enforcing a plan of the event's 5 properties (types
// and bounds), and one whose plan also has a pattern on trace_id, and
// reports what each plan adds to Capture (added-ns/op,
// added-pattern-ns/op): alternating cancels out the drift of a shared
// machine's speed, which separate benchmarks cannot.
func BenchmarkCapturePlanCost(b *testing.B) {
	trackers := [3]*tracker.Tracker{
		newCaptureTracker(b, nil),
		newCaptureTracker(b, new(capturePlan(""))),
		newCaptureTracker(b, new(capturePlan("[0-9a-f]{32}"))),
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	e := tracker.Event{Name: "query_initiated", Properties: captureProps}
	const chunk = 512
	var spent [3]time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i, tr := range trackers {
			start := time.Now()
			for range chunk {
				tr.Capture(ctx, e)
			}
			spent[i] += time.Since(start)
		}
		n += chunk
	}
	b.ReportMetric(float64(spent[0])/float64(n), "no-plan-ns/op")
	b.ReportMetric(float64(spent[1]-spent[0])/float64(n), "added-ns/op")
	b.ReportMetric(float64(spent[2]-spent[0])/float64(n), "added-pattern-ns/op")
	for _, tr := range trackers {
		if s := tr.Stats(); s.Plan.Total() != 0 || s.Rejected.Total() != 0 {
			b.Fatalf("stats %+v", s)
		}
	}
}
