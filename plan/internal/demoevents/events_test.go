package demoevents_test

import (
	"testing"

	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/plan/internal/demoevents"
	"github.com/multitrack/multitrack/tracker"
)

func TestGeneratedEventsPassTheDemoPlan(t *testing.T) {
	c, err := plan.Load("../../../testdata/plans/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	events := []tracker.Event{
		demoevents.WarehouseProvisioned{Warehouse: "org_42_wh", Size: demoevents.SizeMedium, Region: "eu-west-1"}.Event(),
		demoevents.WarehouseDeprovisioned{Warehouse: "org_42_wh"}.Event(),
		demoevents.WarehouseDeprovisioned{Warehouse: "org_42_wh", Reason: new(demoevents.ReasonIdle)}.Event(),
		demoevents.WarehousePasswordReset{Warehouse: "org_42_wh", User: "alice"}.Event(),
		demoevents.QueryInitiated{User: "alice", TraceID: trace, StatementType: demoevents.StatementTypeCreateTable}.Event(),
		demoevents.QueryFailed{User: "alice", TraceID: trace, SQLState: "42P01", ErrorCategory: "undefined_table"}.Event(),
		demoevents.QueryFailed{User: "bob", TraceID: trace, SQLState: "57014", ErrorCategory: demoevents.ErrorCategoryQueryCanceled, DurationMs: new(int64(1200))}.Event(),
	}
	for _, e := range events {
		if vs := c.Violations(e.Name, e.Properties, nil); len(vs) > 0 {
			t.Errorf("%s: %v", e.Name, vs)
		}
	}
	// The types keep what they are given: a value the plan refuses is still
	// caught by the checker.
	bad := demoevents.QueryFailed{User: "alice", TraceID: "not-hex", SQLState: "42P01", ErrorCategory: "made_up"}.Event()
	if n := c.Check(bad.Name, bad.Properties, nil); n.Pattern != 1 || n.NotInEnum != 1 {
		t.Errorf("a bad trace id and category: %+v", n)
	}
}
