package tracker_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/syncbuf"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestIdentity(t *testing.T) {
	cases := []struct {
		name       string
		ctxOrg     string
		event      tracker.Event
		opts       []tracker.Option
		wantID     string
		wantGroups map[string]string
	}{
		{name: "org from context", ctxOrg: "org_42", event: tracker.Event{Name: "e"},
			wantID: "org_42", wantGroups: map[string]string{"organization": "org_42"}},
		{name: "standalone", event: tracker.Event{Name: "e"}, wantID: "standalone"},
		{name: "custom fallback", event: tracker.Event{Name: "e"}, opts: []tracker.Option{tracker.WithFallbackDistinctID("anonymous")}, wantID: "anonymous"},
		{name: "explicit distinct id keeps org group", ctxOrg: "org_1", event: tracker.Event{Name: "e", DistinctID: "alice"},
			wantID: "alice", wantGroups: map[string]string{"organization": "org_1"}},
		{name: "event group wins over context", ctxOrg: "org_ctx", event: tracker.Event{Name: "e", Groups: map[string]string{"organization": "org_ev"}},
			wantID: "org_ev", wantGroups: map[string]string{"organization": "org_ev"}},
		{name: "other groups kept, org added", ctxOrg: "org_7", event: tracker.Event{Name: "e", Groups: map[string]string{"project": "p1"}},
			wantID: "org_7", wantGroups: map[string]string{"organization": "org_7", "project": "p1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := trackertest.NewTracker(t, c.opts...)
			ctx := context.Background()
			if c.ctxOrg != "" {
				ctx = tracker.WithOrganization(ctx, c.ctxOrg)
			}
			var before map[string]string
			if c.event.Groups != nil {
				before = map[string]string{}
				for k, v := range c.event.Groups {
					before[k] = v
				}
			}
			tr.Capture(ctx, c.event)
			evs, err := rec.WaitFor(ctxT(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			got := evs[0]
			if got.DistinctID != c.wantID {
				t.Errorf("DistinctID = %q, want %q", got.DistinctID, c.wantID)
			}
			if fmt.Sprint(got.Groups) != fmt.Sprint(c.wantGroups) && !(len(got.Groups) == 0 && len(c.wantGroups) == 0) {
				t.Errorf("Groups = %v, want %v", got.Groups, c.wantGroups)
			}
			if c.event.Groups != nil && fmt.Sprint(c.event.Groups) != fmt.Sprint(before) {
				t.Errorf("caller's Groups modified: %v, was %v", c.event.Groups, before)
			}
			if got.UUID == "" || got.Timestamp.IsZero() {
				t.Errorf("UUID %q / Timestamp %v not set", got.UUID, got.Timestamp)
			}
		})
	}
}

func TestKeepsGivenUUIDAndTimestamp(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	ts := time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)
	tr.Capture(context.Background(), tracker.Event{Name: "e", UUID: "0190f3c4-0000-7000-8000-000000000001", Timestamp: ts})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].UUID != "0190f3c4-0000-7000-8000-000000000001" || !evs[0].Timestamp.Equal(ts) {
		t.Fatalf("got %q %v", evs[0].UUID, evs[0].Timestamp)
	}
}

func TestEventPropertyWinsOverDefault(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithProperties(map[string]any{"service": "api", "region": "eu"}))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"region": "us"}})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := evs[0].Properties; p["region"] != "us" || p["service"] != "api" {
		t.Fatalf("properties = %v", p)
	}
}

func TestSampling(t *testing.T) {
	recAll, recHalf := trackertest.NewRecorder(), trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSampler(tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
			if e.Name == "query_initiated" {
				return rateSampler{0.1}.Sample(e)
			}
			return true, 1
		})),
		tracker.WithSink("all", recAll),
		tracker.WithSink("half", recHalf, tracker.WithSinkSampler(rateSampler{0.5})),
	)
	props := map[string]any{"user": "alice"}
	const n = 20000
	for i := 0; i < n; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "query_initiated", Properties: props})
	}
	tr.Capture(context.Background(), tracker.Event{Name: "query_failed"})
	closeT(t, tr)
	if len(props) != 1 {
		t.Fatalf("caller's properties modified: %v", props)
	}
	initiated := recAll.Named("query_initiated")
	// binomial: mean 2000, sd ≈ 42; 4 sigma
	if k := len(initiated); math.Abs(float64(k)-n*0.1) > 4*math.Sqrt(n*0.1*0.9) {
		t.Errorf("kept %d of %d at 0.1", k, n)
	}
	for _, e := range initiated {
		if e.Properties[tracker.PropSampleRate] != 0.1 || e.Properties["user"] != "alice" {
			t.Fatalf("kept event properties = %v", e.Properties)
		}
	}
	failed := recAll.Named("query_failed")
	if len(failed) != 1 {
		t.Fatalf("query_failed kept %d", len(failed))
	}
	if _, ok := failed[0].Properties[tracker.PropSampleRate]; ok {
		t.Error("an event kept at rate 1 carries $sample_rate")
	}
	for _, e := range recHalf.Named("query_initiated") {
		if e.Properties[tracker.PropSampleRate] != 0.05 {
			t.Fatalf("sink-level rate = %v, want 0.05", e.Properties[tracker.PropSampleRate])
		}
	}
	half := len(recHalf.Named("query_initiated"))
	if p := float64(half) / float64(len(initiated)); p < 0.4 || p > 0.6 {
		t.Errorf("sink sampler kept %d of %d", half, len(initiated))
	}
	s := tr.Stats()
	if s.SampledOut != uint64(n-len(initiated)) {
		t.Errorf("SampledOut = %d", s.SampledOut)
	}
	checkStatsAddUp(t, s)
}

// An event that already carries $sample_rate (replayed from a dead letter,
// say) and is sampled again carries the product of both rates.
func TestSampleRatesMultiply(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(tracker.SamplerFunc(func(tracker.Event) (bool, float64) { return true, 0.5 })))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{tracker.PropSampleRate: 0.1}})
	evs, _ := rec.WaitFor(ctxT(t), 1)
	if got := evs[0].Properties[tracker.PropSampleRate]; got != 0.05 {
		t.Errorf("$sample_rate = %v, want 0.05 (0.1 x 0.5)", got)
	}
}

// A sampler sees, before the event has a UUID, the key that the UUID it
// gets will carry: the decision is the same wherever the event is sampled
// again (a replay, a relay).
func TestSamplerSeesTheKeyOfTheUUIDToCome(t *testing.T) {
	var mu sync.Mutex
	keys := map[string]uint64{}
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
		mu.Lock()
		defer mu.Unlock()
		keys[e.Properties["i"].(string)] = e.UUIDRandom()
		return true, 1
	})))
	for i := range 100 {
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": fmt.Sprint(i)}})
	}
	evs, err := rec.WaitFor(ctxT(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if k := e.UUIDRandom(); k != keys[e.Properties["i"].(string)] || k>>62 != 0 {
			t.Fatalf("%s: key %x after Capture, %x when sampled", e.UUID, k, keys[e.Properties["i"].(string)])
		}
	}
}

func TestPanickingSamplerIsRecovered(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithSampler(tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
		if e.Name == "bad" {
			panic("sampler bug")
		}
		return true, 1
	})))
	tr.Capture(context.Background(), tracker.Event{Name: "bad"})
	tr.Capture(context.Background(), tracker.Event{Name: "good"})
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s := tr.Stats()
	if s.Panics != 1 || rec.Len() != 1 {
		t.Fatalf("panics %d, recorded %d", s.Panics, rec.Len())
	}
	checkStatsAddUp(t, s)
}

func TestPanickingSinkSamplerSpoilsNothingElse(t *testing.T) {
	bad, good := trackertest.NewRecorder(), trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("bad", bad, tracker.WithSinkSampler(tracker.SamplerFunc(func(tracker.Event) (bool, float64) { panic("sink sampler bug") }))),
		tracker.WithSink("good", good),
	)
	for i := 0; i < 10; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	closeT(t, tr)
	s := tr.Stats()
	if good.Len() != 10 || bad.Len() != 0 || s.Panics != 0 || s.Sinks["bad"].Panics != 10 || s.Sinks["bad"].SampledOut != 10 {
		t.Fatalf("good %d, bad %d, stats %+v", good.Len(), bad.Len(), s)
	}
	checkStatsAddUp(t, s)
}

func TestDeliveryIgnoresCallerCancellation(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	ctx, cancel := context.WithCancel(tracker.WithOrganization(context.Background(), "org_1"))
	cancel()
	tr.Capture(ctx, tracker.Event{Name: "e"})
	if _, err := rec.WaitFor(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultTracker(t *testing.T) {
	if tracker.Default() != nil {
		t.Fatal("Default before SetDefault is not the no-op")
	}
	tracker.Capture(context.Background(), tracker.Event{Name: "ignored"})
	tr, rec := trackertest.NewTracker(t)
	tracker.SetDefault(tr)
	defer tracker.SetDefault(nil)
	tracker.Capture(tracker.WithOrganization(context.Background(), "org_9"), tracker.Event{Name: "e"})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].DistinctID != "org_9" {
		t.Fatalf("got %+v", evs[0])
	}
}

func TestNilAndZeroTrackersAreNoOps(t *testing.T) {
	var nilT *tracker.Tracker
	nilT.Capture(context.Background(), tracker.Event{Name: "e"})
	if err := nilT.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := nilT.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = nilT.Stats()

	var zero tracker.Tracker
	zero.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"password": "x"}})
	if err := zero.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := zero.Stats(); s.Captured != 1 || s.Kept != 1 || s.Redacted != 1 {
		t.Fatalf("zero tracker stats = %+v", s)
	}
	if err := zero.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The zero Tracker validates, redacts and counts, delivers nothing, and
// turns to counting Captures after Close.
func TestZeroTrackerStillRejectsAndCounts(t *testing.T) {
	var tr tracker.Tracker
	tr.Capture(context.Background(), tracker.Event{})
	tr.Capture(context.Background(), tracker.Event{Name: "x", Properties: map[string]any{"f": func() {}}})
	tr.Capture(context.Background(), tracker.Event{Name: "x", Properties: map[string]any{"password": "p"}})
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := tr.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tr.Capture(context.Background(), tracker.Event{Name: "x"})
	s := tr.Stats()
	if s.Rejected.EmptyName != 1 || s.Rejected.Unencodable != 1 || s.Kept != 1 || s.Redacted != 1 || s.AfterClose != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLogsNeverCarryPropertyValues(t *testing.T) {
	var buf syncbuf.Buffer
	logger := zerolog.New(&buf).Level(zerolog.DebugLevel)
	tr := mustNew(t, tracker.WithLogger(logger), tracker.WithSink("fail", failingSink{}))
	//lint:ignore SA1012 Capture must tolerate a nil context
	tr.Capture(nil, tracker.Event{Name: "e1", Properties: map[string]any{"password": "hunter2-value", "x": math.NaN()}})
	tr.Capture(context.Background(), tracker.Event{Name: "e2", Properties: map[string]any{"user": "alice-value"}})
	closeUndelivered(t, tr, "fail", 1)
	out := buf.String()
	if !strings.Contains(out, "unencodable") || !strings.Contains(out, `"fail"`) {
		t.Errorf("expected diagnostics, got %s", out)
	}
	for _, secret := range []string{"hunter2-value", "alice-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("log carries a property value %q: %s", secret, out)
		}
	}
}

// A recovered panic is logged by its type, never its value, which can
// carry a property value.
func TestAPanicIsLoggedWithoutItsValue(t *testing.T) {
	var buf syncbuf.Buffer
	tr := mustNew(t, tracker.WithLogger(zerolog.New(&buf)), tracker.WithSampler(tracker.SamplerFunc(func(e tracker.Event) (bool, float64) {
		n, err := strconv.Atoi(e.Properties["tenant"].(string))
		if err != nil {
			panic(err)
		}
		return n%2 == 0, 0.5
	})))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"tenant": "alice@example.com"}})
	closeT(t, tr)
	if strings.Contains(buf.String(), "alice@example.com") {
		t.Errorf("log carries a property value: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "a value of type *strconv.NumError") {
		t.Errorf("the panic is not logged by its type: %s", buf.String())
	}
}

// The tracker's own diagnostics are rate-limited per kind: a flood of bad
// events logs one line a second for each kind, not one an event.
func TestDiagnosticsAreRateLimitedPerKind(t *testing.T) {
	var buf syncbuf.Buffer
	tr := mustNew(t, tracker.WithLogger(zerolog.New(&buf)))
	for range 100 {
		tr.Capture(context.Background(), tracker.Event{})
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"x": math.NaN()}})
	}
	closeT(t, tr)
	out := buf.String()
	if n, m := strings.Count(out, `"reason":"empty_name"`), strings.Count(out, `"reason":"unencodable"`); n != 1 || m != 1 {
		t.Fatalf("logged %d empty_name and %d unencodable lines, want 1 each:\n%s", n, m, out)
	}
	if s := tr.Stats(); s.Rejected.Total() != 200 {
		t.Fatalf("rejected %d", s.Rejected.Total())
	}
}

// Logger gives what builds a tracker (the registry) the logger given with
// WithLogger, not rate-limited; nil and zero trackers give a disabled one.
func TestLoggerIsTheOneGivenWithWithLogger(t *testing.T) {
	var log syncbuf.Buffer
	tr, _ := trackertest.NewTracker(t, tracker.WithLogger(zerolog.New(&log)))
	for range 2 {
		l := tr.Logger()
		l.Warn().Msg("configured")
	}
	if got, want := log.String(), strings.Repeat(`{"level":"warn","message":"configured"}`+"\n", 2); got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	var zero tracker.Tracker
	for _, tr := range []*tracker.Tracker{nil, &zero, mustNew(t)} {
		if l := tr.Logger(); l.GetLevel() != zerolog.Disabled && l.Warn().Enabled() {
			t.Errorf("%p: Logger is enabled by default", tr)
		}
	}
}
