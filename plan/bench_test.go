package plan_test

import (
	"testing"

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

func BenchmarkCheck(b *testing.B) {
	c, err := plan.Compile(benchPlan)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if n := c.Check(benchEvent, nil); n.Total() != 0 {
			b.Fatal(n)
		}
	}
}

// BenchmarkCheckWithPatterns checks the demo plan's query_failed, whose
// trace_id and sqlstate have patterns: regular expressions cost.
func BenchmarkCheckWithPatterns(b *testing.B) {
	c, err := plan.Load("../testdata/plans/demo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if n := c.Check(benchEvent, nil); n.Total() != 0 {
			b.Fatal(n)
		}
	}
}

func BenchmarkCheckUnplanned(b *testing.B) {
	c, err := plan.Compile(benchPlan)
	if err != nil {
		b.Fatal(err)
	}
	e := benchEvent
	e.Name = "query_started"
	b.ReportAllocs()
	for b.Loop() {
		if n := c.Check(e, nil); n.Unplanned != 1 {
			b.Fatal(n)
		}
	}
}
