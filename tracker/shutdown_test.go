package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

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

// A second Close waits for the first only until its own context ends.
func TestASecondCloseHonoursItsOwnDeadline(t *testing.T) {
	s := &ctxSink{entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithFlushInterval(time.Millisecond)))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	<-s.entered
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		tr.Close(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	tr.Close(ctx)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("second Close with a 20ms deadline took %v", d)
	}
}

type deafCloseSink struct{ release chan struct{} }

func (deafCloseSink) Write(context.Context, []tracker.Event) error { return nil }

func (s deafCloseSink) Close(context.Context) error { <-s.release; return nil }

// A sink whose Close ignores ctx must not keep tracker.Close past its
// deadline: Close returns, naming it, while the sink's Close still blocks.
func TestCloseReturnsByItsDeadlineWhenASinkCloseHangs(t *testing.T) {
	s := deafCloseSink{release: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := tr.Close(ctx) // returns although s.Close has not
	close(s.release)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `sink "s": Close still running`) {
		t.Errorf("Close = %v", err)
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

// Close racing Capture and Flush on every overflow policy, with samplers
// and a dead letter: the counters still add up, and match what the sink saw.
func TestStatsAddUpWhenCloseRacesCaptureAndFlush(t *testing.T) {
	for iter := 0; iter < 8; iter++ {
		a, b, c := &countSink{}, &countSink{delay: time.Millisecond}, &countSink{delay: 100 * time.Microsecond}
		dl := filepath.Join(t.TempDir(), "dl")
		tr := mustNew(t,
			tracker.WithSampler(rateSampler{0.7}),
			tracker.WithSink("a", a, tracker.WithQueueSize(8), tracker.WithBatchSize(3), tracker.WithFlushInterval(time.Millisecond)),
			tracker.WithSink("b", b, tracker.WithQueueSize(16), tracker.WithOverflow(tracker.DropOldest), tracker.WithBatchSize(4)),
			tracker.WithSink("c", c, tracker.WithQueueSize(4), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Millisecond), tracker.WithSinkSampler(rateSampler{0.5})),
			tracker.WithDeadLetter(dl),
		)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					tr.Capture(context.Background(), tracker.Event{Name: "e"})
					if i%50 == 0 {
						fctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
						tr.Flush(fctx)
						cancel()
					}
				}
			}()
		}
		time.Sleep(time.Duration(iter%5+1) * 3 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(iter%3)*2*time.Millisecond)
		tr.Close(ctx)
		cancel()
		close(stop)
		wg.Wait()
		time.Sleep(200 * time.Millisecond) // late writes
		s := tr.Stats()
		checkStatsAddUp(t, s)
		if got := uint64(a.n.Load()); got != s.Sinks["a"].Delivered {
			t.Errorf("a: sink saw %d, delivered %d", got, s.Sinks["a"].Delivered)
		}
		if t.Failed() {
			t.Logf("%+v", s)
			return
		}
	}
}

// Flush and Close accept a nil context; a uint64 above MaxInt64 is
// delivered, and written, as the number it is.
func TestFlushAndCloseAcceptANilContext(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"big": uint64(1<<64 - 1)}})
	//lint:ignore SA1012 Flush and Close must tolerate a nil context
	if err := tr.Flush(nil); err != nil {
		t.Fatal(err)
	}
	evs := rec.Events()
	line, err := eventline.Append(nil, &evs[0])
	if err != nil {
		t.Fatal(err)
	}
	back, err := eventline.Parse(line[:len(line)-1])
	if err != nil || back.Properties["big"] != uint64(1<<64-1) {
		t.Fatalf("%s read back as %#v (%v)", line, back.Properties["big"], err)
	}
	//lint:ignore SA1012 Flush and Close must tolerate a nil context
	if err := tr.Close(nil); err != nil {
		t.Fatal(err)
	}
}

// acceptedSet is a tracker sampler that keeps every event and records its
// UUID: it runs on Capture's caller after the closed check, so it sees
// exactly the events Capture accepted (Stats.Captured), not those refused
// after Close (Stats.AfterClose).
type acceptedSet struct {
	mu   sync.Mutex
	ids  map[string]bool
	gate func(e tracker.Event) // when set, runs first (may block)
}

func (a *acceptedSet) Sample(e tracker.Event) (bool, float64) {
	if a.gate != nil {
		a.gate(e)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]bool{}
	}
	a.ids[e.UUID] = true
	return true, 1
}

func (a *acceptedSet) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// deadLettered returns the UUIDs in a dead-letter file, by sink.
func deadLettered(t *testing.T, path string) map[string][]string {
	t.Helper()
	events, warnings, err := eventline.ReadFile(path)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("dead letter: %v %v", err, warnings)
	}
	bySink := map[string][]string{}
	for _, e := range events {
		sink, _ := e.Properties[tracker.PropSink].(string)
		bySink[sink] = append(bySink[sink], e.UUID)
	}
	return bySink
}

// checkDeliveredOrDeadLettered checks, by UUID, that every event accepted
// reached sink exactly once: delivered, or in the dead letter, not both.
func checkDeliveredOrDeadLettered(t *testing.T, sink string, accepted *acceptedSet, delivered []tracker.Event, dead []string) {
	t.Helper()
	seen := map[string]string{}
	note := func(id, where string) {
		if !accepted.ids[id] {
			t.Errorf("%s: %s event %s was never accepted", sink, where, id)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("%s: event %s %s and %s", sink, id, prev, where)
		}
		seen[id] = where
	}
	for _, e := range delivered {
		note(e.UUID, "delivered")
	}
	for _, id := range dead {
		note(id, "dead-lettered")
	}
	if missing := len(accepted.ids) - len(seen); missing != 0 {
		t.Errorf("%s: %d of %d accepted events neither delivered nor dead-lettered (%d delivered, %d dead-lettered)",
			sink, missing, len(accepted.ids), len(delivered), len(dead))
	}
}

// With a dead letter, an event Capture accepted while Close runs ends
// delivered or dead-lettered, never only counted: many goroutines capture
// while Close runs, again and again, and the accounting is exact by UUID.
func TestEventsRacingCloseAreDeliveredOrDeadLettered(t *testing.T) {
	const runs, goroutines, per = 20, 8, 400 // 3200 events: no queue fills
	var raced uint64
	for run := range runs {
		accepted := &acceptedSet{}
		small, large := trackertest.NewRecorder(), trackertest.NewRecorder()
		dl := filepath.Join(t.TempDir(), "dead.jsonl")
		tr := mustNew(t,
			tracker.WithSampler(accepted),
			tracker.WithSink("small", small, tracker.WithBatchSize(16)),
			tracker.WithSink("large", large),
			tracker.WithDeadLetter(dl),
		)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range goroutines {
			wg.Go(func() {
				<-start
				for i := range per {
					tr.Capture(context.Background(), tracker.Event{Name: "e", UUID: fmt.Sprintf("run%02d-g%d-%04d", run, g, i)})
				}
			})
		}
		close(start)
		for accepted.len() < goroutines*per/4 { // Close mid-stream
			runtime.Gosched()
		}
		if err := tr.Close(ctxT(t)); err != nil {
			t.Fatalf("run %d: Close: %v", run, err)
		}
		wg.Wait()

		s := tr.Stats()
		checkStatsAddUp(t, s)
		if s.Captured+s.AfterClose != goroutines*per || s.Captured != uint64(accepted.len()) {
			t.Fatalf("run %d: captured %d + after close %d, accepted %d; want %d in all", run, s.Captured, s.AfterClose, accepted.len(), goroutines*per)
		}
		dead := deadLettered(t, dl)
		for name, delivered := range map[string][]tracker.Event{"small": small.Events(), "large": large.Events()} {
			ss := s.Sinks[name]
			raced += ss.Dropped.Closed
			if ss.Dropped.QueueFull != 0 || ss.Dropped.ShutdownDeadline != 0 || ss.Failed != 0 {
				t.Fatalf("run %d: %s: %+v; want only events refused by the closed queue", run, name, ss)
			}
			if ss.DeadLettered != ss.Dropped.Closed || uint64(len(dead[name])) != ss.DeadLettered {
				t.Errorf("run %d: %s: %d refused by the closed queue, %d counted dead-lettered, %d in the dead letter",
					run, name, ss.Dropped.Closed, ss.DeadLettered, len(dead[name]))
			}
			checkDeliveredOrDeadLettered(t, name, accepted, delivered, dead[name])
		}
		if t.Failed() {
			t.Fatalf("run %d: %+v", run, s)
		}
	}
	t.Logf("%d events raced Close over %d runs", raced, runs)
}

// A Capture that passed the closed check before Close began and reaches the
// queue only after Close has returned (its goroutine was descheduled all
// along) still dead-letters its event.
func TestAnEventAcceptedAcrossAllOfCloseIsDeadLettered(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	accepted := &acceptedSet{gate: func(e tracker.Event) {
		if e.Name == "straggler" {
			close(entered)
			<-release
		}
	}}
	rec := trackertest.NewRecorder()
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	tr := mustNew(t, tracker.WithSampler(accepted), tracker.WithSink("rec", rec), tracker.WithDeadLetter(dl))
	tr.Capture(context.Background(), tracker.Event{Name: "early", UUID: "early"})
	var wg sync.WaitGroup
	wg.Go(func() { tr.Capture(context.Background(), tracker.Event{Name: "straggler", UUID: "straggler"}) })
	<-entered
	closeT(t, tr)
	close(release)
	wg.Wait()

	s := tr.Stats()
	checkStatsAddUp(t, s)
	if rs := s.Sinks["rec"]; rs.Delivered != 1 || rs.Dropped.Closed != 1 || rs.DeadLettered != 1 || s.DeadLetterErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
	checkDeliveredOrDeadLettered(t, "rec", accepted, rec.Events(), deadLettered(t, dl)["rec"])
}

var errGaveUp = errors.New("gave up")

// closeReporter accepts every batch; its Close waits for release, ignoring
// its context, then reports every event it took as undelivered, as the
// PostHog sink reports what it gives up on at the very end of its Close.
type closeReporter struct {
	mu      sync.Mutex
	took    []tracker.Event
	report  tracker.UndeliveredFunc
	release chan struct{}
	closed  chan struct{}
}

func newCloseReporter() *closeReporter {
	return &closeReporter{release: make(chan struct{}), closed: make(chan struct{})}
}

func (s *closeReporter) SetUndelivered(f tracker.UndeliveredFunc) { s.report = f }

func (s *closeReporter) Write(_ context.Context, evs []tracker.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took = append(s.took, evs...)
	return nil
}

func (s *closeReporter) Close(context.Context) error {
	defer close(s.closed)
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report(s.took, errGaveUp)
	return nil
}

// A sink whose Close is still running at Close's deadline: when it is
// reporting undelivered events then (as the PostHog sink does at its very
// end), Close waits for that report, so that its events are in the dead
// letter, and counted in Close's error, by the time Close returns. When it
// is not, Close returns, saying so and where what it reports later goes; the
// events it reports after that are dead-lettered all the same. Close's error
// never counts as lost an event written to the dead letter.
func TestASinkStillClosingAtTheDeadlineLosesNoReport(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reporting bool // the sink's Close is in its report at the deadline
	}{
		{"reporting at the deadline", true},
		{"reporting after Close returned", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dl := filepath.Join(t.TempDir(), "dead.jsonl")
			s := newCloseReporter()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			h := &hookLog{}
			if tc.reporting {
				close(s.release)
				h.check = func(string, []tracker.Event) { <-ctx.Done() } // the report outlives the deadline
			}
			tr := mustNew(t, tracker.WithSink("late", s), tracker.WithDeadLetter(dl), tracker.WithUndeliveredHook(h.hook))
			for range 5 {
				tr.Capture(context.Background(), tracker.Event{Name: "e"})
			}
			if err := tr.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			err := tr.Close(ctx)
			inDeadLetter := len(deadLettered(t, dl)["late"])
			if !tc.reporting {
				close(s.release)
			}
			<-s.closed

			var ue *tracker.UndeliveredError
			switch {
			case errors.As(err, &ue) && ue.DeadLettered < ue.Count:
				t.Errorf("Close = %v; counts events lost that are written to the dead letter", err)
			case tc.reporting && (ue == nil || ue.Count != 5 || inDeadLetter != 5):
				t.Errorf("Close = %v, with %d events in the dead letter; want the 5 the sink was reporting at the deadline in both", err, inDeadLetter)
			case !tc.reporting && (!errors.Is(err, tracker.ErrStillRunning) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), dl)):
				t.Errorf("Close = %v; want ErrStillRunning, naming the dead letter that takes later reports", err)
			}
			st := tr.Stats()
			if ss := st.Sinks["late"]; ss.Undelivered != 5 || ss.DeadLettered != 5 || st.DeadLetterErrors != 0 {
				t.Errorf("stats %+v, dead-letter errors %d", ss, st.DeadLetterErrors)
			}
			if n := len(deadLettered(t, dl)["late"]); n != 5 {
				t.Errorf("the dead letter has %d of the 5 events reported", n)
			}
			if n := h.events("late", errGaveUp); n != 5 {
				t.Errorf("the hook heard of %d of the 5 events reported", n)
			}
		})
	}
}

// Events the worker had taken out of the queue but not yet handed to the
// sink when Close reached its deadline (a batch being copied out of a large
// queue) are undelivered like those still queued: counted in
// Dropped.ShutdownDeadline and in Close's UndeliveredError alike. The
// deadline is short enough to land in that copy most runs; every run checks
// that the two agree.
func TestABatchTakenWhenCloseGivesUpIsInCloseError(t *testing.T) {
	hit := 0
	for run := 0; run < 10 && hit < 3; run++ {
		tr := mustNew(t, tracker.WithSink("rec", trackertest.NewRecorder(),
			tracker.WithQueueSize(tracker.QueueSizeLimit), tracker.WithBatchSize(tracker.BatchSizeLimit),
			tracker.WithFlushInterval(time.Hour)))
		for i := 0; i < tracker.BatchSizeLimit-1; i++ { // one short of a batch: the worker sleeps
			tr.Capture(context.Background(), tracker.Event{Name: "e"})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
		err := tr.Close(ctx)
		cancel()
		lost := tr.Stats().Sinks["rec"].Dropped.ShutdownDeadline
		var ue *tracker.UndeliveredError
		counted := 0
		if errors.As(err, &ue) {
			counted = ue.Count
		}
		if uint64(counted) != lost {
			t.Fatalf("run %d: %d events dropped at Close's deadline, %d of them in Close's error (%v)", run, lost, counted, err)
		}
		if lost > 0 {
			hit++
		}
	}
	t.Logf("Close gave up on a taken batch in %d runs", hit)
}
