package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustNew(t *testing.T, opts ...tracker.Option) *tracker.Tracker {
	t.Helper()
	tr, err := tracker.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// closeUndelivered closes tr and checks that the error names exactly the
// given sink's undelivered events.
func closeUndelivered(t *testing.T, tr *tracker.Tracker, sink string, count int) {
	t.Helper()
	err := tr.Close(ctxT(t))
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Sink != sink || ue.Count != count {
		t.Fatalf("Close = %v, want %d undelivered events of sink %q", err, count, sink)
	}
}

func closeT(t *testing.T, tr *tracker.Tracker) {
	t.Helper()
	if err := tr.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

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

func TestRedactionCopiesOnWrite(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithProperties(map[string]any{"service": "api"}))
	props := map[string]any{"user": "alice", "db_password": "hunter2", "raw_sql": "SELECT 1", "sqlstate": "42P01", "apiKey": "k"}
	tr.Capture(context.Background(), tracker.Event{Name: "query_failed", Properties: props})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0].Properties
	for _, k := range []string{"db_password", "raw_sql", "apiKey"} {
		if _, ok := got[k]; ok {
			t.Errorf("secret key %q was sent", k)
		}
	}
	if got["user"] != "alice" || got["sqlstate"] != "42P01" || got["service"] != "api" {
		t.Errorf("properties = %v", got)
	}
	if len(props) != 5 || props["db_password"] != "hunter2" {
		t.Errorf("caller's map modified: %v", props)
	}
	if s := tr.Stats(); s.Redacted != 3 {
		t.Errorf("Redacted = %d, want 3", s.Redacted)
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

func TestRejections(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	type withFunc struct{ F func() }
	cases := []struct {
		name   string
		event  tracker.Event
		reason func(tracker.RejectStats) uint64
	}{
		{"empty name", tracker.Event{}, func(r tracker.RejectStats) uint64 { return r.EmptyName }},
		{"func", tracker.Event{Name: "e", Properties: map[string]any{"f": func() {}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"chan", tracker.Event{Name: "e", Properties: map[string]any{"c": make(chan int)}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"complex", tracker.Event{Name: "e", Properties: map[string]any{"c": complex(1, 2)}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"NaN", tracker.Event{Name: "e", Properties: map[string]any{"x": math.NaN()}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"Inf in slice", tracker.Event{Name: "e", Properties: map[string]any{"x": []any{1, math.Inf(1)}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"cycle", tracker.Event{Name: "e", Properties: map[string]any{"m": cyclic}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"func in struct", tracker.Event{Name: "e", Properties: map[string]any{"s": withFunc{F: func() {}}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"too large", tracker.Event{Name: "e", Properties: map[string]any{"blob": strings.Repeat("x", 40<<10)}}, func(r tracker.RejectStats) uint64 { return r.TooLarge }},
		{"failing MarshalJSON", tracker.Event{Name: "e", Properties: map[string]any{"m": badMarshaler{}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"panicking MarshalJSON", tracker.Event{Name: "e", Properties: map[string]any{"m": []any{panickyMarshaler{}}}}, func(r tracker.RejectStats) uint64 { return r.Unencodable }},
		{"large RawMessage", tracker.Event{Name: "e", Properties: map[string]any{"raw": json.RawMessage(`"` + strings.Repeat("x", 40<<10) + `"`)}}, func(r tracker.RejectStats) uint64 { return r.TooLarge }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := trackertest.NewTracker(t)
			tr.Capture(context.Background(), c.event)
			tr.Capture(context.Background(), tracker.Event{Name: "ok", Properties: map[string]any{"n": 1, "s": struct{ A int }{1}}})
			if err := tr.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			s := tr.Stats()
			if c.reason(s.Rejected) != 1 || s.Rejected.Total() != 1 {
				t.Errorf("Rejected = %+v", s.Rejected)
			}
			if evs := rec.Events(); len(evs) != 1 || evs[0].Name != "ok" {
				t.Errorf("delivered %v, want only the valid event", evs)
			}
		})
	}
}

type badMarshaler struct{}

func (badMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("no") }

type panickyMarshaler struct{}

func (panickyMarshaler) MarshalText() ([]byte, error) { panic("text bug") }

func TestMaxEventSizeOption(t *testing.T) {
	tr, _ := trackertest.NewTracker(t, tracker.WithMaxEventSize(200))
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"s": strings.Repeat("x", 300)}})
	if s := tr.Stats(); s.Rejected.TooLarge != 1 {
		t.Fatalf("Rejected = %+v", s.Rejected)
	}
}

// blockingSink blocks in Write until release is closed or ctx ends.
type blockingSink struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
	writes  atomic.Int64
	closed  atomic.Bool
}

func newBlockingSink() *blockingSink {
	return &blockingSink{release: make(chan struct{}), entered: make(chan struct{})}
}

func (s *blockingSink) Write(ctx context.Context, evs []tracker.Event) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		s.writes.Add(int64(len(evs)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *blockingSink) Close(context.Context) error { s.closed.Store(true); return nil }

func TestStalledSinkSlowsNeitherCallerNorOtherSink(t *testing.T) {
	const n = 20000
	stalled := newBlockingSink()
	rec := trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("stalled", stalled, tracker.WithQueueSize(100), tracker.WithBatchSize(10)),
		tracker.WithSink("rec", rec, tracker.WithFlushInterval(time.Millisecond), tracker.WithQueueSize(n)),
	)
	for i := 0; i < n; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
	}
	if _, err := rec.WaitFor(ctxT(t), n); err != nil {
		t.Fatal(err)
	}
	s := tr.Stats().Sinks["stalled"]
	if s.Dropped.QueueFull < n-200 {
		t.Errorf("stalled sink dropped %d, want about %d", s.Dropped.QueueFull, n-110)
	}
	close(stalled.release)
	closeT(t, tr)
	st := tr.Stats()
	ss := st.Sinks["stalled"]
	if ss.Delivered+ss.Dropped.QueueFull != n || int64(ss.Delivered) != stalled.writes.Load() {
		t.Errorf("stalled: delivered %d + dropped %d != %d (sink saw %d)", ss.Delivered, ss.Dropped.QueueFull, n, stalled.writes.Load())
	}
	if st.Sinks["rec"].Delivered != n {
		t.Errorf("rec delivered %d", st.Sinks["rec"].Delivered)
	}
}

// panickySink panics on the batches whose number is in panicOn.
type panickySink struct {
	trackertest.Recorder
	calls atomic.Int64
}

func (s *panickySink) Write(ctx context.Context, evs []tracker.Event) error {
	if s.calls.Add(1) == 1 {
		panic("boom")
	}
	return s.Recorder.Write(ctx, evs)
}

func TestPanickingSinkKeepsRunning(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl", "dead.jsonl")
	s := &panickySink{}
	tr := mustNew(t, tracker.WithSink("p", s, tracker.WithFlushInterval(time.Millisecond)), tracker.WithDeadLetter(dl))
	tr.Capture(context.Background(), tracker.Event{Name: "first"})
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	tr.Capture(context.Background(), tracker.Event{Name: "second"})
	if _, err := s.WaitFor(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	closeUndelivered(t, tr, "p", 1)
	st := tr.Stats().Sinks["p"]
	if st.Panics != 1 || st.Failed != 1 || st.Delivered != 1 || st.DeadLettered != 1 {
		t.Errorf("stats = %+v", st)
	}
	lines := readLines(t, dl)
	if len(lines) != 1 || lines[0]["event"] != "first" || lines[0]["properties"].(map[string]any)[tracker.PropSink] != "p" {
		t.Errorf("dead letter = %v", lines)
	}
	if fi, err := os.Stat(dl); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dead letter mode: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(dl)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dead letter dir mode: %v %v", fi.Mode(), err)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestFlushIsABarrierAndKeepsOrder(t *testing.T) {
	recA, recB := trackertest.NewRecorder(), trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("a", recA, tracker.WithFlushInterval(time.Hour), tracker.WithBatchSize(7)),
		tracker.WithSink("b", recB, tracker.WithFlushInterval(time.Hour)),
	)
	defer closeT(t, tr)
	const goroutines, per = 4, 500
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"g": g, "i": i}})
			}
		}()
	}
	wg.Wait()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*trackertest.Recorder{"a": recA, "b": recB} {
		evs := rec.Events()
		if len(evs) != goroutines*per {
			t.Fatalf("%s: %d events after Flush, want %d", name, len(evs), goroutines*per)
		}
		next := make([]int, goroutines)
		for _, e := range evs {
			g, i := e.Properties["g"].(int), e.Properties["i"].(int)
			if i != next[g] {
				t.Fatalf("%s: goroutine %d: got event %d, want %d", name, g, i, next[g])
			}
			next[g]++
		}
	}
	// The tracker stays usable after Flush.
	tr.Capture(context.Background(), tracker.Event{Name: "after"})
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(recA.Named("after")) != 1 {
		t.Fatal("event after Flush not delivered")
	}
}

type flushingSink struct {
	trackertest.Recorder
	flushes atomic.Int64
}

func (s *flushingSink) Flush(context.Context) error { s.flushes.Add(1); return nil }

func TestFlushCallsFlusher(t *testing.T) {
	s := &flushingSink{}
	tr := mustNew(t, tracker.WithSink("f", s))
	defer closeT(t, tr)
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if s.flushes.Load() != 1 || s.Len() != 1 {
		t.Fatalf("flushes = %d, events = %d", s.flushes.Load(), s.Len())
	}
}

func TestFlushNamesLaggingSink(t *testing.T) {
	stalled := newBlockingSink()
	tr := mustNew(t, tracker.WithSink("slowpoke", stalled, tracker.WithFlushInterval(time.Millisecond)), tracker.WithSink("ok", trackertest.NewRecorder()))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	<-stalled.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := tr.Flush(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"slowpoke"`) || strings.Contains(err.Error(), `"ok"`) {
		t.Fatalf("Flush error = %v", err)
	}
	close(stalled.release)
	closeT(t, tr)
}

func TestCloseDeadlineDeadLettersTheRest(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	stuck := newBlockingSink()
	rec := trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("stuck", stuck, tracker.WithBatchSize(10)),
		tracker.WithSink("rec", rec),
		tracker.WithDeadLetter(dl),
	)
	const n = 1000
	for i := 0; i < n; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
	}
	<-stuck.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx)
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close error = %v", err)
	}
	if ue.Sink != "stuck" || ue.DeadLettered != ue.Count || !strings.Contains(err.Error(), dl) {
		t.Errorf("UndeliveredError = %+v", ue)
	}
	st := tr.Stats()
	ss := st.Sinks["stuck"]
	// The batch in Write fails when its context is cancelled; the rest is
	// dropped at the deadline; both go to the dead letter.
	if ss.Failed != 10 || ss.Dropped.ShutdownDeadline != n-10 || ss.DeadLettered != n || ss.Queued != 0 {
		t.Errorf("stuck stats = %+v", ss)
	}
	if got := len(readLines(t, dl)); got != n {
		t.Errorf("dead letter has %d lines, want %d", got, n)
	}
	if rs := st.Sinks["rec"]; rs.Delivered != n || !rec.Closed() {
		t.Errorf("rec delivered %d, closed %v", rs.Delivered, rec.Closed())
	}
	if !stuck.closed.Load() {
		t.Error("stuck sink was not closed after its Write returned")
	}
	if st.Captured != n || st.Kept != n {
		t.Errorf("captured %d kept %d", st.Captured, st.Kept)
	}
}

func TestCloseIsIdempotentAndCaptureAfterCloseIsCounted(t *testing.T) {
	rec := trackertest.NewRecorder()
	tr := mustNew(t, tracker.WithSink("rec", rec))
	tr.Capture(context.Background(), tracker.Event{Name: "before"})
	closeT(t, tr)
	closeT(t, tr)
	tr.Capture(context.Background(), tracker.Event{Name: "after"})
	if err := tr.Flush(context.Background()); !errors.Is(err, tracker.ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if s := tr.Stats(); s.AfterClose != 1 || s.Captured != 1 || rec.Len() != 1 {
		t.Fatalf("stats %+v, recorded %d", s, rec.Len())
	}
}

type failingSink struct{ closeErr error }

func (failingSink) Write(context.Context, []tracker.Event) error { return errors.New("disk full") }
func (s failingSink) Close(context.Context) error                { return s.closeErr }

func TestCloseJoinsErrorsAndClosesEverySink(t *testing.T) {
	errA, errB := errors.New("a broke"), errors.New("b broke")
	rec := trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("a", failingSink{closeErr: errA}),
		tracker.WithSink("rec", rec),
		tracker.WithSink("b", failingSink{closeErr: errB}),
	)
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	err := tr.Close(ctxT(t))
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Close error %v does not wrap both sinks' errors", err)
	}
	if !rec.Closed() {
		t.Fatal("a sink was left open after another failed")
	}
	s := tr.Stats().Sinks["a"]
	if s.WriteErrors != 1 || s.Failed != 1 || s.LastError.IsZero() {
		t.Fatalf("a stats = %+v", s)
	}
}

func TestCaptureRacingClose(t *testing.T) {
	rec := trackertest.NewRecorder()
	tr := mustNew(t,
		tracker.WithSink("rec", rec, tracker.WithQueueSize(64)),
		tracker.WithSink("old", trackertest.NewRecorder(), tracker.WithQueueSize(64), tracker.WithOverflow(tracker.DropOldest)),
		tracker.WithSink("block", trackertest.NewRecorder(), tracker.WithQueueSize(64), tracker.WithOverflow(tracker.Block)),
	)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 2000; i++ {
				tr.Capture(context.Background(), tracker.Event{Name: "e"})
			}
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	closeT(t, tr)
	wg.Wait()
	checkStatsAddUp(t, tr.Stats())
	if s := tr.Stats(); s.Captured+s.AfterClose != 8*2000 {
		t.Fatalf("captured %d + after close %d != %d", s.Captured, s.AfterClose, 8*2000)
	}
}

func checkStatsAddUp(t *testing.T, s tracker.Stats) {
	t.Helper()
	if s.Captured != s.SampledOut+s.Rejected.Total()+s.Kept+s.Panics {
		t.Errorf("captured %d != sampled out %d + rejected %d + kept %d + panics %d", s.Captured, s.SampledOut, s.Rejected.Total(), s.Kept, s.Panics)
	}
	for name, ss := range s.Sinks {
		if ss.Received != s.Kept {
			t.Errorf("%s: received %d != kept %d", name, ss.Received, s.Kept)
		}
		if got := ss.SampledOut + ss.Delivered + ss.Failed + ss.Dropped.Total() + uint64(ss.Queued); got != ss.Received {
			t.Errorf("%s: sampled out %d + delivered %d + failed %d + dropped %+v + queued %d = %d != received %d",
				name, ss.SampledOut, ss.Delivered, ss.Failed, ss.Dropped, ss.Queued, got, ss.Received)
		}
	}
}

func TestOverflowPolicies(t *testing.T) {
	t.Run("drop_oldest keeps the newest", func(t *testing.T) {
		// The sink holds its first Write until every event is captured, so
		// the queue overflows; whatever that first batch was, the queue
		// then keeps the newest ten.
		rec := &gatedRecorder{gate: make(chan struct{})}
		tr := mustNew(t, tracker.WithSink("r", rec, tracker.WithQueueSize(10), tracker.WithOverflow(tracker.DropOldest)))
		for i := 0; i < 100; i++ {
			tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
		}
		close(rec.gate)
		closeT(t, tr)
		evs := rec.Events()
		if len(evs) < 10 || len(evs) > 20 {
			t.Fatalf("delivered %d events", len(evs))
		}
		for j, e := range evs[len(evs)-10:] {
			if e.Properties["i"] != 90+j {
				t.Fatalf("last ten delivered: %v", evs[len(evs)-10:])
			}
		}
		if s := tr.Stats().Sinks["r"]; s.Dropped.QueueFull != uint64(100-len(evs)) {
			t.Fatalf("dropped %d, delivered %d", s.Dropped.QueueFull, len(evs))
		}
		checkStatsAddUp(t, tr.Stats())
	})
	t.Run("block waits for room", func(t *testing.T) {
		rec := trackertest.NewRecorder()
		tr := mustNew(t, tracker.WithSink("r", rec, tracker.WithQueueSize(4), tracker.WithBatchSize(4), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(10*time.Second)))
		for i := 0; i < 1000; i++ {
			tr.Capture(context.Background(), tracker.Event{Name: "e"})
		}
		closeT(t, tr)
		if s := tr.Stats().Sinks["r"]; s.Delivered != 1000 || s.Dropped.QueueFull != 0 {
			t.Fatalf("stats = %+v", s)
		}
	})
	t.Run("block gives up after its timeout", func(t *testing.T) {
		stalled := newBlockingSink()
		tr := mustNew(t, tracker.WithSink("s", stalled, tracker.WithQueueSize(2), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Millisecond)))
		for i := 0; i < 10; i++ {
			tr.Capture(context.Background(), tracker.Event{Name: "e"})
		}
		if s := tr.Stats().Sinks["s"]; s.Dropped.QueueFull < 7 {
			t.Fatalf("dropped %d, want at least 7", s.Dropped.QueueFull)
		}
		close(stalled.release)
		closeT(t, tr)
		checkStatsAddUp(t, tr.Stats())
	})
}

// gatedRecorder holds every Write until gate is closed.
type gatedRecorder struct {
	trackertest.Recorder
	gate chan struct{}
}

func (r *gatedRecorder) Write(ctx context.Context, evs []tracker.Event) error {
	<-r.gate
	return r.Recorder.Write(ctx, evs)
}

type rateSampler struct{ rate float64 }

func (s rateSampler) Sample(e tracker.Event) (bool, float64) {
	return e.UUIDRandom() < uint64(s.rate*float64(uint64(1)<<62)), s.rate
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

var errHTTP400 = errors.New("HTTP 400")

// reportingSink accepts every batch, then reports every other event as
// undelivered, as an asynchronous client does.
type reportingSink struct {
	trackertest.Recorder
	report tracker.UndeliveredFunc
}

func (s *reportingSink) SetUndelivered(f tracker.UndeliveredFunc) { s.report = f }

func (s *reportingSink) Write(ctx context.Context, evs []tracker.Event) error {
	var bad []tracker.Event
	for i, e := range evs {
		if i%2 == 1 {
			bad = append(bad, e)
		}
	}
	s.report(bad, errHTTP400)
	return s.Recorder.Write(ctx, evs)
}

func TestUndeliveredReporterGoesToDeadLetter(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	s := &reportingSink{}
	tr := mustNew(t, tracker.WithSink("ph", s, tracker.WithBatchSize(10)), tracker.WithDeadLetter(dl))
	for i := 0; i < 100; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	closeUndelivered(t, tr, "ph", 50)
	st := tr.Stats().Sinks["ph"]
	if st.Undelivered != 50 || st.DeadLettered != 50 || st.Delivered != 100 {
		t.Fatalf("stats = %+v", st)
	}
	if got := len(readLines(t, dl)); got != 50 {
		t.Fatalf("dead letter has %d lines", got)
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

func TestNewReportsEveryBadOption(t *testing.T) {
	_, err := tracker.New(
		tracker.WithSink("", trackertest.NewRecorder()),
		tracker.WithSink("a", nil),
		tracker.WithSink("b", trackertest.NewRecorder(), tracker.WithQueueSize(0)),
		tracker.WithSink("b", trackertest.NewRecorder()),
		tracker.WithProperties(map[string]any{"api_token": "x", "f": func() {}}),
		tracker.WithMaxEventSize(-1),
	)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"sink #1: empty name", `sink "a": nil Sink`, `sink "b": queue size 0`, `sink "b": added twice`, `"api_token"`, `"f"`, "max event size -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"x"`) {
		t.Error("error echoes a property value")
	}
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

func TestStatsAddUpUnderLoad(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	tr := mustNew(t,
		tracker.WithSampler(rateSampler{0.5}),
		tracker.WithSink("fail", failingSink{}, tracker.WithQueueSize(16)),
		tracker.WithSink("rec", trackertest.NewRecorder(), tracker.WithQueueSize(16)),
		tracker.WithDeadLetter(dl),
	)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				e := tracker.Event{Name: "e"}
				if i%100 == 0 {
					e.Properties = map[string]any{"bad": math.NaN()}
				}
				tr.Capture(context.Background(), e)
			}
		}()
	}
	wg.Wait()
	err := tr.Close(ctxT(t))
	s := tr.Stats()
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Sink != "fail" || uint64(ue.Count) != s.Sinks["fail"].Failed || ue.DeadLettered != ue.Count {
		t.Fatalf("Close = %v", err)
	}
	checkStatsAddUp(t, s)
	if s.Captured != 12000 || s.Rejected.Unencodable == 0 {
		t.Fatalf("stats = %+v", s)
	}
	if fs := s.Sinks["fail"]; fs.DeadLettered != fs.Failed || uint64(len(readLines(t, dl))) != fs.Failed {
		t.Fatalf("fail sink: failed %d, dead-lettered %d", fs.Failed, fs.DeadLettered)
	}
}

func TestLogsNeverCarryPropertyValues(t *testing.T) {
	var buf safeBuffer
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

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBlockWithNilContext(t *testing.T) {
	stalled := newBlockingSink()
	tr := mustNew(t, tracker.WithSink("s", stalled, tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Millisecond)))
	for i := 0; i < 5; i++ {
		//lint:ignore SA1012 Capture must tolerate a nil context
		tr.Capture(nil, tracker.Event{Name: "e"})
	}
	close(stalled.release)
	closeT(t, tr)
	if s := tr.Stats(); s.Kept != 5 || s.Panics != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// deafSink's Write ignores its context until released.
type deafSink struct {
	entered, release, closed chan struct{}
}

func (s *deafSink) Write(context.Context, []tracker.Event) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return nil
}

func (s *deafSink) Close(context.Context) error { close(s.closed); return nil }

func TestSinkWhoseWriteOverrunsCloseIsClosedLater(t *testing.T) {
	s := &deafSink{entered: make(chan struct{}, 1), release: make(chan struct{}), closed: make(chan struct{})}
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	tr := mustNew(t, tracker.WithSink("deaf", s, tracker.WithFlushInterval(time.Millisecond)), tracker.WithDeadLetter(dl))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	<-s.entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("Close = %v", err)
	}
	select {
	case <-s.closed:
		t.Fatal("sink closed while its Write was running")
	default:
	}
	// The overrunning Write's batch is dead-lettered at the deadline, in
	// case it never delivers.
	if lines := readLines(t, dl); len(lines) != 1 || lines[0]["event"] != "e" {
		t.Fatalf("dead letter = %v", lines)
	}
	close(s.release)
	<-s.closed // closed once the Write returned
	if st := tr.Stats().Sinks["deaf"]; st.Delivered != 1 {
		t.Fatalf("stats = %+v", st)
	}
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

// hangingFlusher's Flush waits for its context.
type hangingFlusher struct {
	trackertest.Recorder
	cancelled chan struct{}
}

func (s *hangingFlusher) Flush(ctx context.Context) error {
	<-ctx.Done()
	close(s.cancelled)
	return ctx.Err()
}

func TestSinkFlushIsCancelledWhenItsCallerGivesUp(t *testing.T) {
	s := &hangingFlusher{cancelled: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithFlushInterval(time.Millisecond)))
	tr.Capture(context.Background(), tracker.Event{Name: "before"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tr.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush = %v", err)
	}
	<-s.cancelled // the sink's Flush is not left holding the worker
	tr.Capture(context.Background(), tracker.Event{Name: "after"})
	if _, err := s.WaitFor(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	closeT(t, tr)
}

func TestNewChecksTheDeadLetterPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := tracker.New(tracker.WithDeadLetter(filepath.Join(file, "dead.jsonl")))
	if err == nil || !strings.Contains(err.Error(), "dead letter") || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("New = %v", err)
	}
	good := filepath.Join(t.TempDir(), "dl", "dead.jsonl")
	tr := mustNew(t, tracker.WithDeadLetter(good))
	closeT(t, tr)
	if fi, err := os.Stat(good); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dead letter not created 0600 by New: %v %v", fi, err)
	}
}
