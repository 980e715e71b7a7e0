package tracker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// panickySink panics on its first Write.
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

type flakyFlusher struct {
	trackertest.Recorder
	calls atomic.Int32
}

func (f *flakyFlusher) Flush(context.Context) error {
	if f.calls.Add(1) == 1 {
		return errors.New("transient")
	}
	return nil
}

// Each Flush asks the sink to flush again: a Flush after a failed one does
// not return the old error.
func TestFlushAsksTheSinkAgainAfterItFailed(t *testing.T) {
	f := &flakyFlusher{}
	tr := mustNew(t, tracker.WithSink("f", f))
	tr.Capture(context.Background(), tracker.Event{Name: "e"})
	err1 := tr.Flush(ctxT(t))
	err2 := tr.Flush(ctxT(t))
	closeT(t, tr)
	if err1 == nil || err2 != nil {
		t.Errorf("first Flush %v, second Flush %v (sink Flush called %d times)", err1, err2, f.calls.Load())
	}
}
