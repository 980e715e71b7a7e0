package gencheck_test

import (
	"testing"
	"time"

	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/plan/internal/gencheck"
	"github.com/multitrack/multitrack/tracker"
)

func TestGeneratedEventsPassTheirPlan(t *testing.T) {
	c, err := plan.Load("../../testdata/gen/every.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events := []tracker.Event{
		// Only what is required.
		gencheck.JobRan{JobID: "job-1", Status: gencheck.StatusValueOk, Attempts: 1, StartedAt: now, Steps: []any{}}.Event(),
		// Everything.
		gencheck.JobRan{
			JobID: "job-2", Status: gencheck.StatusValueTimedOut, Priority: new(gencheck.PriorityMinus1), Attempts: 3,
			CostUsd: new(0.25), DryRun: new(true), StartedAt: now, FinishedAt: new(now.Add(time.Second)),
			Labels: map[string]any{"team": "data"}, Steps: []any{"fetch", "load"}, APIURL: new("https://example.com"), UserID: new("u1"),
		}.Event(),
		gencheck.JobRetried{JobID: "job-2", Status: new(gencheck.StatusValueFailed), RetryReason: new(gencheck.RetryReasonOom)}.Event(),
		gencheck.Status{Level: new(gencheck.LevelValue3)}.Event(),
		gencheck.Status{}.Event(),
		gencheck.PageView{CurrentURL: "https://example.com/"}.Event(),
	}
	for _, e := range events {
		if vs := c.Violations(e.Name, e.Properties, nil); len(vs) > 0 {
			t.Errorf("%s: %v", e.Name, vs)
		}
	}
	// An optional property left nil is left out of the event.
	e := gencheck.JobRan{JobID: "job-1", Status: gencheck.StatusValueOk, Attempts: 1, StartedAt: now}.Event()
	for _, k := range []string{"priority", "cost_usd", "dry_run", "finished_at", "labels", "api_url", "userID"} {
		if _, ok := e.Properties[k]; ok {
			t.Errorf("optional %s is in the event", k)
		}
	}
	if len(e.Properties) != 5 {
		t.Errorf("properties: %v", e.Properties)
	}
}
