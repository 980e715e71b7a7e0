package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// hookLog records what the undelivered hook is given.
type hookLog struct {
	mu      sync.Mutex
	reports []hookReport
	check   func(sink string, events []tracker.Event) // runs inside the hook
}

type hookReport struct {
	sink   string
	names  []string
	reason error
}

func (h *hookLog) hook(sink string, events []tracker.Event, reason error) {
	if h.check != nil {
		h.check(sink, events)
	}
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = e.Name
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reports = append(h.reports, hookReport{sink, names, reason})
}

// events returns how many events were reported for sink with a reason
// matching target (any reason, for a nil target).
func (h *hookLog) events(sink string, target error) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.reports {
		if r.sink == sink && (target == nil || errors.Is(r.reason, target)) {
			n += len(r.names)
		}
	}
	return n
}

func TestHookHearsOfAFailedWriteBeforeTheDeadLetter(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dead.jsonl")
	h := &hookLog{}
	h.check = func(string, []tracker.Event) {
		if events, _, _ := eventline.ReadFile(dl); len(events) != 0 {
			t.Errorf("the dead letter had %d events before the hook", len(events))
		}
	}
	tr := mustNew(t, tracker.WithSink("fail", failingSink{}), tracker.WithDeadLetter(dl), tracker.WithUndeliveredHook(h.hook))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Flush is a barrier for the reports too: no waiting needed.
	if n := len(h.reports); n != 1 || h.reports[0].sink != "fail" || h.reports[0].names[0] != "e" || h.reports[0].reason.Error() != "disk full" {
		t.Fatalf("reports %+v", h.reports)
	}
	closeUndelivered(t, tr, "fail", 1)
	if events, _, err := eventline.ReadFile(dl); err != nil || len(events) != 1 {
		t.Fatalf("dead letter: %d events, %v", len(events), err)
	}
}

func TestHookHearsWhatASinkReportsUndelivered(t *testing.T) {
	h := &hookLog{}
	s := &reportingSink{}
	tr := mustNew(t, tracker.WithSink("ph", s, tracker.WithBatchSize(10)), tracker.WithUndeliveredHook(h.hook))
	for range 10 {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	closeUndelivered(t, tr, "ph", 5)
	if n := h.events("ph", errHTTP400); n != 5 {
		t.Fatalf("hook heard of %d events, want 5", n)
	}
}

func TestHookHearsOfEveryQueueDrop(t *testing.T) {
	for _, overflow := range []tracker.Overflow{tracker.DropNewest, tracker.DropOldest, tracker.Block} {
		t.Run(overflow.String(), func(t *testing.T) {
			h := &hookLog{}
			stalled := newBlockingSink()
			tr := mustNew(t, tracker.WithUndeliveredHook(h.hook),
				tracker.WithSink("s", stalled, tracker.WithQueueSize(4), tracker.WithBatchSize(1),
					tracker.WithOverflow(overflow), tracker.WithBlockTimeout(time.Millisecond)))
			for i := range 50 {
				tr.Capture(context.Background(), tracker.Event{Name: fmt.Sprint(i)})
			}
			dropped := tr.Stats().Sinks["s"].Dropped.QueueFull
			if n := h.events("s", tracker.ErrQueueFull); dropped < 40 || uint64(n) != dropped || h.events("s", nil) != n {
				t.Errorf("dropped %d, hook heard of %d", dropped, n)
			}
			close(stalled.release)
			closeT(t, tr)
		})
	}
}

// An event evicted by drop_oldest is reported before Flush returns, even
// when another goroutine's Capture evicts it while Flush waits.
func TestFlushWaitsForEvictionReports(t *testing.T) {
	hookEntered, hookRelease := make(chan struct{}), make(chan struct{})
	h := &hookLog{check: func(_ string, events []tracker.Event) {
		if events[0].Name == "a" {
			close(hookEntered)
			<-hookRelease
		}
	}}
	stalled := newBlockingSink()
	tr := mustNew(t, tracker.WithUndeliveredHook(h.hook), tracker.WithSink("s", stalled,
		tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.DropOldest)))
	tr.Capture(context.Background(), tracker.Event{Name: "x"})
	<-stalled.entered // the worker holds x in Write
	tr.Capture(context.Background(), tracker.Event{Name: "a"})
	go tr.Capture(context.Background(), tracker.Event{Name: "b"}) // evicts a
	<-hookEntered
	flushed := make(chan error, 1)
	go func() { flushed <- tr.Flush(ctxT(t)) }()
	close(stalled.release) // x is written; b waits for the hook to return
	for tr.Stats().Sinks["s"].Delivered < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) before the eviction of a was reported", err)
	default:
	}
	close(hookRelease)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if n := h.events("s", tracker.ErrQueueFull); n != 1 {
		t.Fatalf("hook heard of %d evictions", n)
	}
	closeT(t, tr)
}

// Flush is a barrier for the hook's reports of queue drops too.
func TestFlushAccountsForEveryDropOldestReport(t *testing.T) {
	h := &hookLog{}
	rec := &gatedRecorder{gate: make(chan struct{})}
	tr := mustNew(t, tracker.WithUndeliveredHook(h.hook),
		tracker.WithSink("r", rec, tracker.WithQueueSize(8), tracker.WithBatchSize(8), tracker.WithOverflow(tracker.DropOldest)))
	for i := range 200 {
		tr.Capture(context.Background(), tracker.Event{Name: fmt.Sprint(i)})
	}
	close(rec.gate)
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s := tr.Stats().Sinks["r"]
	if n := h.events("r", tracker.ErrQueueFull); h.events("r", nil) != n || uint64(n) != s.Dropped.QueueFull || uint64(n)+s.Delivered != 200 {
		t.Fatalf("after Flush: hook heard of %d, dropped %d, delivered %d", n, s.Dropped.QueueFull, s.Delivered)
	}
	closeT(t, tr)
}

func TestHookHearsOfEventsCapturedAfterClose(t *testing.T) {
	h := &hookLog{}
	tr := mustNew(t, tracker.WithUndeliveredHook(h.hook),
		tracker.WithSink("a", trackertest.NewRecorder()), tracker.WithSink("b", trackertest.NewRecorder()))
	closeT(t, tr)
	tr.Capture(context.Background(), tracker.Event{Name: "late"})
	if a, b := h.events("a", tracker.ErrClosed), h.events("b", tracker.ErrClosed); a != 1 || b != 1 {
		t.Fatalf("hook heard of %d and %d events, want one per sink", a, b)
	}
}

func TestHookHearsOfEventsLeftAtClosesDeadline(t *testing.T) {
	h := &hookLog{}
	stuck := newBlockingSink()
	tr := mustNew(t, tracker.WithUndeliveredHook(h.hook), tracker.WithSink("stuck", stuck, tracker.WithBatchSize(10)))
	for range 100 {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	<-stuck.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = tr.Close(ctx)
	// 90 left in the queue, and the 10 of the Write the deadline cut short.
	if n := h.events("stuck", tracker.ErrClosed); n != 100 {
		t.Fatalf("hook heard of %d events, want 100", n)
	}
	if n := h.events("stuck", context.DeadlineExceeded); n != 90 {
		t.Fatalf("hook heard of %d events left at the deadline, want 90", n)
	}
}

func TestHookHearsOfAWriteOverrunningClose(t *testing.T) {
	h := &hookLog{}
	s := &deafSink{entered: make(chan struct{}, 1), release: make(chan struct{}), closed: make(chan struct{})}
	tr := mustNew(t, tracker.WithUndeliveredHook(h.hook), tracker.WithSink("deaf", s, tracker.WithFlushInterval(time.Millisecond)))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	<-s.entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = tr.Close(ctx)
	if n := h.events("deaf", tracker.ErrClosed); n != 1 {
		t.Fatalf("hook heard of %d events, want the overrunning Write's 1", n)
	}
	close(s.release)
	<-s.closed
}

func TestPanickingHookHarmsNothing(t *testing.T) {
	tr := mustNew(t, tracker.WithUndeliveredHook(func(string, []tracker.Event, error) { panic("hook bug") }),
		tracker.WithSink("fail", failingSink{}, tracker.WithQueueSize(1), tracker.WithBatchSize(1)))
	for range 20 {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	var ue *tracker.UndeliveredError
	if err := tr.Close(ctxT(t)); !errors.As(err, &ue) || uint64(ue.Count) != tr.Stats().Sinks["fail"].Failed {
		t.Fatalf("Close = %v", err)
	}
	tr.Capture(context.Background(), tracker.Event{Name: "late"})
	checkStatsAddUp(t, tr.Stats())
}

// perName counts how many times the hook heard of each event, by name.
func (h *hookLog) perName(sink string) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]int{}
	for _, r := range h.reports {
		if r.sink == sink {
			for _, n := range r.names {
				m[n]++
			}
		}
	}
	return m
}

// partialSink takes one batch of 10: its Write reports the first 3 events
// undelivered at once; then, when it overruns, it waits for release,
// ignoring its context, and reports 3 more before returning nil (as the
// PostHog sink reports what it could not hand over); otherwise it fails.
type partialSink struct {
	report           tracker.UndeliveredFunc
	overrun          bool
	entered, release chan struct{}
	closed           chan struct{}
}

func (s *partialSink) SetUndelivered(f tracker.UndeliveredFunc) { s.report = f }

func (s *partialSink) Write(_ context.Context, evs []tracker.Event) error {
	s.report(evs[:3], errHTTP400)
	close(s.entered)
	if !s.overrun {
		return errors.New("connection reset")
	}
	<-s.release
	s.report(evs[3:6], errHTTP400)
	return nil
}

func (s *partialSink) Close(context.Context) error { close(s.closed); return nil }

// An event a sink did not deliver is heard of by the hook, written to the
// dead letter and counted in Close's error once, however the sink's reports
// of its batch and the Write's end interleave: a Write that reports part of
// its batch and then fails, or that reports part of it, overruns Close's
// deadline (its batch is dead-lettered then) and reports more when it
// returns.
func TestAnUndeliveredEventIsReportedAndDeadLetteredOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		overrun    bool
		undelivers uint64 // reported by the sink
	}{
		{"reported, then the Write fails", false, 3},
		{"reported, then the Write overruns Close's deadline and reports more", true, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dl := filepath.Join(t.TempDir(), "dead.jsonl")
			h := &hookLog{}
			s := &partialSink{overrun: tc.overrun, entered: make(chan struct{}), release: make(chan struct{}), closed: make(chan struct{})}
			tr := mustNew(t, tracker.WithSink("s", s, tracker.WithBatchSize(10), tracker.WithFlushInterval(time.Millisecond)),
				tracker.WithDeadLetter(dl), tracker.WithUndeliveredHook(h.hook))
			for i := range 10 {
				tr.Capture(context.Background(), tracker.Event{Name: fmt.Sprint("e", i), UUID: fmt.Sprint("u", i)})
			}
			<-s.entered
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			if !tc.overrun {
				ctx = ctxT(t)
			}
			defer cancel()
			err := tr.Close(ctx)
			close(s.release)
			<-s.closed // after the overrunning Write returned and reported

			var ue *tracker.UndeliveredError
			if !errors.As(err, &ue) || ue.Count != 10 || ue.DeadLettered != 10 {
				t.Errorf("Close = %v; want the 10 events counted once, all in the dead letter", err)
			}
			if tc.overrun && !errors.Is(err, tracker.ErrStillRunning) {
				t.Errorf("Close = %v; want ErrStillRunning", err)
			}
			lines := map[string]int{}
			for _, u := range deadLettered(t, dl)["s"] {
				lines[u]++
			}
			heard := h.perName("s")
			for i := range 10 {
				if u, n := fmt.Sprint("u", i), fmt.Sprint("e", i); lines[u] != 1 || heard[n] != 1 {
					t.Errorf("event %s: %d lines in the dead letter, heard of %d times; want 1 and 1", u, lines[u], heard[n])
				}
			}
			st := tr.Stats()
			if ss := st.Sinks["s"]; ss.Undelivered != tc.undelivers || ss.DeadLettered != 10 || st.DeadLetterErrors != 0 {
				t.Errorf("stats %+v", ss)
			}
		})
	}
}
