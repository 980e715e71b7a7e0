package plan_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/syncbuf"
	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// enforced captures events through a tracker enforcing c in mode, with a
// default property and a logger, and returns what the sink received, the
// stats and the log, once the tracker is closed.
func enforced(t *testing.T, c tracker.PlanChecker, mode tracker.PlanMode, opts []tracker.Option, events ...tracker.Event) ([]tracker.Event, tracker.Stats, string) {
	t.Helper()
	var log syncbuf.Buffer
	opts = append([]tracker.Option{
		tracker.WithPlan(c, mode),
		tracker.WithProperties(map[string]any{"region": "eu"}),
		tracker.WithLogger(zerolog.New(&log)),
	}, opts...)
	tr, rec := trackertest.NewTracker(t, opts...)
	for _, e := range events {
		tr.Capture(context.Background(), e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s := tr.Stats()
	if s.Captured != s.SampledOut+s.Rejected.Total()+s.Kept+s.Panics {
		t.Errorf("stats do not add up: %+v", s)
	}
	return rec.Events(), s, log.String()
}

// value is what every bad property holds: it must never reach the log.
const value = "VALUE-hunter2"

// TestEveryViolationKindInEveryMode: warn delivers the event as it is,
// strip removes what the plan does not allow (an unknown property, all of
// an unplanned event's) and delivers, drop rejects; every mode counts the
// violation by kind and logs the event and the property, never the value.
func TestEveryViolationKindInEveryMode(t *testing.T) {
	c := compileTestPlan(t)
	kinds := []struct {
		kind     plan.Kind
		event    tracker.Event
		property string   // the one the log names
		stripped []string // what strip removes
	}{
		{plan.KindUnplanned, tracker.Event{Name: "query_faild", Properties: map[string]any{"sqlstate": value, "user": value}}, "", []string{"sqlstate", "user"}},
		{plan.KindMissingRequired, failed(map[string]any{"sqlstate": absent, "category": "syntax_error"}), "sqlstate", nil},
		{plan.KindWrongType, failed(map[string]any{"duration_ms": value}), "duration_ms", nil},
		{plan.KindNotInEnum, failed(map[string]any{"category": value}), "category", nil},
		{plan.KindPattern, failed(map[string]any{"sqlstate": value}), "sqlstate", nil},
		{plan.KindRange, failed(map[string]any{"note": value}), "note", nil},
		{plan.KindUnknownProperty, failed(map[string]any{"customer_email": value}), "customer_email", []string{"customer_email"}},
	}
	for _, mode := range []tracker.PlanMode{tracker.PlanWarn, tracker.PlanStrip, tracker.PlanDrop} {
		for _, k := range kinds {
			t.Run(mode.String()+"/"+strings.ReplaceAll(k.kind.String(), " ", "_"), func(t *testing.T) {
				original := maps.Clone(k.event.Properties)
				got, s, log := enforced(t, c, mode, nil, k.event)

				if k.kind.Count(s.Plan) != 1 || s.Plan.Total() != 1 {
					t.Errorf("Stats.Plan %+v, want one %s", s.Plan, k.kind)
				}
				if !maps.Equal(k.event.Properties, original) {
					t.Errorf("the caller's map changed: %v", k.event.Properties)
				}
				for _, want := range []string{`"event":"` + k.event.Name + `"`, `"property":"` + k.property + `"`, `"mode":"` + mode.String() + `"`, "breaks the tracking plan"} {
					if !strings.Contains(log, want) {
						t.Errorf("the log has no %s:\n%s", want, log)
					}
				}
				if strings.Contains(log, "hunter2") {
					t.Errorf("the log shows a property value:\n%s", log)
				}

				if mode == tracker.PlanDrop {
					if len(got) != 0 || s.Rejected.Plan != 1 || s.Kept != 0 {
						t.Errorf("drop: delivered %d, rejected %d, kept %d", len(got), s.Rejected.Plan, s.Kept)
					}
					return
				}
				if len(got) != 1 || s.Rejected.Plan != 0 {
					t.Fatalf("%s: delivered %d events, rejected %d", mode, len(got), s.Rejected.Plan)
				}
				want := maps.Clone(original)
				want["region"] = "eu"
				var removed uint64
				if mode == tracker.PlanStrip {
					for _, p := range k.stripped {
						delete(want, p)
						removed++
					}
				}
				if !maps.Equal(got[0].Properties, want) || s.Stripped != removed {
					t.Errorf("%s delivered %v (stripped %d), want %v (%d)", mode, got[0].Properties, s.Stripped, want, removed)
				}
			})
		}
	}
}

// TestWhatTheTrackerAddsOrRemovesIsExempt: default properties (even one
// the plan requires), $sample_rate and secret keys (removed anyway) are
// not judged.
func TestWhatTheTrackerAddsOrRemovesIsExempt(t *testing.T) {
	c, err := plan.Compile(plan.Plan{Events: []plan.Event{{Name: "query_failed", Properties: []plan.Property{
		{Name: "sqlstate", Type: plan.String, Required: true},
		{Name: "service", Type: plan.String, Required: true}, // from the default properties
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	half := tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return true, 0.5 })
	e := tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01", "db_password": value}}
	replayed := tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01", tracker.PropSampleRate: 0.1}}
	got, s, log := enforced(t, c, tracker.PlanDrop,
		[]tracker.Option{tracker.WithSampler(half), tracker.WithProperties(map[string]any{"service": "api", "region": "eu"})}, e, replayed)
	if s.Plan.Total() != 0 || len(got) != 2 || log != "" {
		t.Fatalf("violations %+v, delivered %d, log %q", s.Plan, len(got), log)
	}
	p := got[0].Properties
	if p["service"] != "api" || p["region"] != "eu" || p[tracker.PropSampleRate] != 0.5 || p["db_password"] != nil || s.Redacted != 1 {
		t.Errorf("delivered %v, redacted %d", p, s.Redacted)
	}
}

// TestStripCountsEachRemovedPropertyOnce: a stripped property that
// held a secret is not counted as redacted as well.
func TestStripCountsEachRemovedPropertyOnce(t *testing.T) {
	c := compileTestPlan(t)
	e := failed(map[string]any{"meta": map[string]any{"api_token": value}, "password": value})
	got, s, _ := enforced(t, c, tracker.PlanStrip, nil, e)
	if len(got) != 1 || s.Stripped != 1 || s.Redacted != 1 || s.Plan.UnknownProperty != 1 {
		t.Fatalf("delivered %v, stripped %d, redacted %d, plan %+v", got, s.Stripped, s.Redacted, s.Plan)
	}
	if _, ok := got[0].Properties["meta"]; ok {
		t.Errorf("meta was not stripped: %v", got[0].Properties)
	}
}

func TestPlanViolationsAreLoggedAtMostOnceASecond(t *testing.T) {
	c := compileTestPlan(t)
	events := make([]tracker.Event, 100)
	for i := range events {
		events[i] = tracker.Event{Name: "unplanned"}
	}
	_, s, log := enforced(t, c, tracker.PlanWarn, nil, events...)
	// 100 events in far less than a second: one line (two, should the
	// machine stall past a second boundary).
	if n := strings.Count(log, "breaks the tracking plan"); n < 1 || n > 2 || s.Plan.Unplanned != 100 {
		t.Errorf("%d log lines for %d violations:\n%s", n, s.Plan.Unplanned, log)
	}
}

// TestSampledOutEventsAreNotChecked: the plan runs after sampling, so a
// sampled-out event costs nothing more.
func TestSampledOutEventsAreNotChecked(t *testing.T) {
	never := tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return false, 1 })
	_, s, _ := enforced(t, compileTestPlan(t), tracker.PlanDrop, []tracker.Option{tracker.WithSampler(never)}, tracker.Event{Name: "unplanned"})
	if s.SampledOut != 1 || s.Plan.Total() != 0 || s.Rejected.Plan != 0 {
		t.Errorf("stats %+v", s)
	}
}
