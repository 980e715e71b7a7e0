package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/metrics"
	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failing is a sink whose every Write fails.
type failing struct{}

func (failing) Write(context.Context, []tracker.Event) error { return errors.New("endpoint down") }
func (failing) Close(context.Context) error                  { return nil }

// dropB samples out the events whose names start with "b".
var dropB = tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
	return !strings.HasPrefix(e.Name, "b"), 1
})

// newLoaded returns a closed tracker with known counts: 6 captured, 3 sampled
// out, 1 rejected (empty name), 2 kept; a recorder that delivered both and a
// failing sink that failed both; 1 property redacted; 1 Capture after Close.
func newLoaded(t *testing.T) *tracker.Tracker {
	t.Helper()
	rec := trackertest.NewRecorder()
	tr, err := tracker.New(
		tracker.WithSampler(dropB),
		tracker.WithSink("rec", rec),
		tracker.WithSink("down", failing{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr.Capture(ctx, tracker.Event{Name: "a", Properties: map[string]any{"password": "x"}}) // kept, 1 redacted
	tr.Capture(ctx, tracker.Event{Name: "b1"})                                             // sampled out
	tr.Capture(ctx, tracker.Event{Name: ""})                                               // rejected
	tr.Capture(ctx, tracker.Event{Name: "b2"})                                             // sampled out
	tr.Capture(ctx, tracker.Event{Name: "e"})                                              // kept
	tr.Capture(ctx, tracker.Event{Name: "b3"})                                             // sampled out
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tr.Close(cctx); err == nil {
		t.Fatal("Close: want the failing sink's error")
	}
	tr.Capture(ctx, tracker.Event{Name: "late"})
	return tr
}

func TestCollectorReportsStats(t *testing.T) {
	tr := newLoaded(t)
	s := tr.Stats()
	c := metrics.NewCollector(tr)
	want := map[string]float64{
		"multitrack_captured_total":                                            float64(s.Captured),
		"multitrack_kept_total":                                                2,
		"multitrack_sampled_out_total":                                         float64(s.SampledOut),
		`multitrack_rejected_total{reason="empty_name"}`:                       1,
		`multitrack_rejected_total{reason="unencodable"}`:                      0,
		`multitrack_rejected_total{reason="bad_timestamp"}`:                    0,
		"multitrack_redacted_total":                                            1,
		"multitrack_after_close_total":                                         1,
		`multitrack_sink_delivered_total{sink="rec"}`:                          2,
		`multitrack_sink_delivered_total{sink="down"}`:                         0,
		`multitrack_sink_failed_total{sink="down"}`:                            2,
		`multitrack_sink_write_errors_total{sink="down"}`:                      float64(s.Sinks["down"].WriteErrors),
		`multitrack_sink_dropped_total{reason="queue_full",sink="rec"}`:        0,
		`multitrack_sink_dropped_total{reason="shutdown_deadline",sink="rec"}`: 0,
		`multitrack_sink_queue_depth{sink="rec"}`:                              0,
	}
	if s.SampledOut != 3 || s.Captured != 6 {
		t.Fatalf("the fixture is not what the test assumes: %+v", s)
	}
	got := gather(t, c)
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	if n := testutil.CollectAndCount(c); n != len(got) {
		t.Errorf("CollectAndCount = %d, gathered %d", n, len(got))
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}

func TestQueueDepthIsAGauge(t *testing.T) {
	block := make(chan struct{})
	stalled := &stall{release: block}
	tr, err := tracker.New(tracker.WithSink("slow", stalled, tracker.WithBatchSize(1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		tr.Capture(ctx, tracker.Event{Name: "x"})
	}
	// The worker takes the first event and stalls in Write; the rest wait.
	// Queued counts both (an event in a Write is not yet accounted for).
	deadline := time.Now().Add(10 * time.Second)
	var depth float64
	for time.Now().Before(deadline) {
		depth = gather(t, metrics.NewCollector(tr))[`multitrack_sink_queue_depth{sink="slow"}`]
		if depth == 5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(block)
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if depth != 5 {
		t.Fatalf("queue depth while stalled = %v, want 5", depth)
	}
	if d := gather(t, metrics.NewCollector(tr))[`multitrack_sink_queue_depth{sink="slow"}`]; d != 0 {
		t.Fatalf("queue depth after Close = %v, want 0", d)
	}
}

type stall struct{ release chan struct{} }

func (s *stall) Write(ctx context.Context, _ []tracker.Event) error {
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *stall) Close(context.Context) error { return nil }

func TestCollectorReportsPlanViolationsByKind(t *testing.T) {
	c, err := plan.Compile(plan.Plan{Events: []plan.Event{{Name: "query_failed", Properties: []plan.Property{
		{Name: "sqlstate", Type: plan.String, Required: true},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := trackertest.NewTracker(t, tracker.WithPlan(c, tracker.PlanStrip))
	ctx := context.Background()
	tr.Capture(ctx, tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": 42, "extra": 1, "more": 2}})
	tr.Capture(ctx, tracker.Event{Name: "query_started"})
	got := gather(t, metrics.NewCollector(tr))
	for k, v := range map[string]float64{
		`multitrack_plan_violations_total{kind="unplanned"}`:        1,
		`multitrack_plan_violations_total{kind="wrong_type"}`:       1,
		`multitrack_plan_violations_total{kind="unknown_property"}`: 2,
		`multitrack_plan_violations_total{kind="not_in_enum"}`:      0,
		"multitrack_stripped_total":                                 2,
		`multitrack_rejected_total{reason="plan"}`:                  0,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (reported: %v), want %v", k, g, ok, v)
		}
	}
}

func TestNilTrackerReportsZeros(t *testing.T) {
	got := gather(t, metrics.NewCollector(nil))
	if got["multitrack_captured_total"] != 0 || len(got) == 0 {
		t.Fatalf("nil tracker: %v", got)
	}
}

func TestHandlerServesPrometheusText(t *testing.T) {
	tr := newLoaded(t)
	srv := httptest.NewServer(metrics.Handler(tr))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"multitrack_captured_total 6",
		`multitrack_sink_failed_total{sink="down"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestPublishExpvar(t *testing.T) {
	tr := newLoaded(t)
	metrics.PublishExpvar("multitrack_test", tr)
	var s tracker.Stats
	if err := json.Unmarshal([]byte(expvar.Get("multitrack_test").String()), &s); err != nil {
		t.Fatal(err)
	}
	if s.Captured != 6 || s.Sinks["down"].Failed != 2 {
		t.Fatalf("expvar: %+v", s)
	}
}

// gather collects c into a map from "name{labels}" to value.
func gather(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var parts []string
				for _, l := range m.GetLabel() {
					parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
				}
				key += "{" + strings.Join(parts, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}
