package tracker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// The tracker's side of plan enforcement. Every violation kind in every
// mode, with a real plan, is tested in package plan (enforce_test.go).

func TestPlanModesParseAndPrint(t *testing.T) {
	for _, m := range []tracker.PlanMode{tracker.PlanWarn, tracker.PlanStrip, tracker.PlanDrop} {
		got, err := tracker.ParsePlanMode(" " + strings.ToUpper(m.String()) + " ")
		if err != nil || got != m {
			t.Errorf("%s: %v, %v", m, got, err)
		}
	}
	if m, err := tracker.ParsePlanMode(""); err != nil || m != tracker.PlanWarn {
		t.Errorf("empty: %v, %v", m, err)
	}
	if _, err := tracker.ParsePlanMode("enforce"); err == nil || !strings.Contains(err.Error(), "want warn, strip or drop") {
		t.Errorf("enforce: %v", err)
	}
	if _, err := tracker.New(tracker.WithPlan(everyEventUnplanned{}, tracker.PlanMode(7))); err == nil || !strings.Contains(err.Error(), "unknown plan mode PlanMode(7)") {
		t.Errorf("mode 7: %v", err)
	}
}

// everyEventUnplanned is a plan with no event.
type everyEventUnplanned struct{}

func (everyEventUnplanned) Check(string, map[string]any, func(string) bool) tracker.PlanStats {
	return tracker.PlanStats{Unplanned: 1}
}
func (everyEventUnplanned) Allows(string, string) bool { return false }
func (everyEventUnplanned) Explain(string, map[string]any, func(string) bool) (string, string) {
	return "", "event is not in the plan"
}

// panickyPlan panics in Check.
type panickyPlan struct{ everyEventUnplanned }

func (panickyPlan) Check(string, map[string]any, func(string) bool) tracker.PlanStats {
	panic("plan bug")
}

func TestANilPlanChecksNothing(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithPlan(nil, tracker.PlanDrop))
	tr.Capture(context.Background(), tracker.Event{Name: "anything"})
	if _, err := rec.WaitFor(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if s := tr.Stats(); s.Plan.Total() != 0 || s.Rejected.Total() != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestAPanickingPlanDropsTheEventNotTheCaller(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithPlan(panickyPlan{}, tracker.PlanWarn))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	closeT(t, tr)
	s := tr.Stats()
	if s.Panics != 1 || s.Kept != 0 || rec.Len() != 0 {
		t.Errorf("panics %d, kept %d, delivered %d", s.Panics, s.Kept, rec.Len())
	}
	checkStatsAddUp(t, s)
}

func TestPlanStatsTotal(t *testing.T) {
	p := tracker.PlanStats{Unplanned: 1, MissingRequired: 2, WrongType: 3, NotInEnum: 4, Pattern: 5, Range: 6, UnknownProperty: 7}
	if p.Total() != 28 {
		t.Errorf("Total %d", p.Total())
	}
	r := tracker.RejectStats{EmptyName: 1, Unencodable: 2, TooLarge: 3, BadTimestamp: 5, Plan: 4}
	if r.Total() != 15 {
		t.Errorf("RejectStats.Total %d", r.Total())
	}
}
