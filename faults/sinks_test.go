package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// recording is a sink that remembers how many times each UUID was written.
type recording struct {
	mu   sync.Mutex
	seen map[string]int
}

func newRecording() *recording { return &recording{seen: map[string]int{}} }

func (r *recording) Write(_ context.Context, events []tracker.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		r.seen[e.UUID]++
	}
	return nil
}

func (r *recording) Close(context.Context) error { return nil }

func (r *recording) delivered() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.seen)
}

// panicking is a recording sink whose Write panics while on is set, and
// whose Close panics.
type panicking struct {
	recording
	on atomic.Bool
}

func (p *panicking) Write(ctx context.Context, events []tracker.Event) error {
	if p.on.Load() {
		panic(fmt.Sprintf("a bug in the sink, %d events in hand", len(events)))
	}
	return p.recording.Write(ctx, events)
}

func (p *panicking) Close(context.Context) error { panic("a bug in the sink's Close") }

// stalling is a recording sink whose Write blocks, ignoring its context,
// while it is stalled: a sink stuck in a call that cannot be interrupted.
type stalling struct {
	recording
	mu     sync.Mutex
	gate   chan struct{} // open (not closed) while stalled
	closed chan struct{} // closed by Close
}

func newStalling() *stalling {
	s := &stalling{recording: recording{seen: map[string]int{}}, gate: make(chan struct{}), closed: make(chan struct{})}
	close(s.gate)
	return s
}

func (s *stalling) stall() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *stalling) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
}

// wait blocks, ignoring any context, while s is stalled.
func (s *stalling) wait() {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	<-gate
}

func (s *stalling) Write(ctx context.Context, events []tracker.Event) error {
	s.wait()
	return s.recording.Write(ctx, events)
}

func (s *stalling) Close(context.Context) error {
	close(s.closed)
	return nil
}

// captureBound is the longest a single Capture may take while a sink
// panics or stalls beside a healthy one. Not a speed test: generous for the
// race detector on two busy cores; a Capture that waited for the stalled
// sink would take the whole outage (seconds).
const captureBound = 200 * time.Millisecond

// checkCaptureNeverBlocked fails the test if a Capture of c took longer
// than captureBound, and logs the longest.
func checkCaptureNeverBlocked(t *testing.T, c *captured) {
	t.Helper()
	if c.longest > captureBound {
		t.Errorf("a Capture took %v while a sink misbehaved: it must not wait for a sink (bound %v)", c.longest, captureBound)
	}
	t.Logf("longest Capture: %v", c.longest)
}

// newTracker creates a tracker closed at the end of the test if the test
// did not close it.
func newTracker(t *testing.T, opts ...tracker.Option) *tracker.Tracker {
	t.Helper()
	tr, err := tracker.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		tr.Close(ctx)
	})
	return tr
}

// TestPanickingSinkIsDeadLetteredAndSlowsNoOther makes a sink's Write
// panic for a while, and its Close panic: its batches are dead-lettered,
// Close reports the panic, Capture never blocks, and the healthy sink
// beside it gets every event.
func TestPanickingSinkIsDeadLetteredAndSlowsNoOther(t *testing.T) {
	sc := size()
	dl := filepath.Join(t.TempDir(), "dead-letter.jsonl")
	bad, good := &panicking{recording: *newRecording()}, newRecording()
	h := newHookLog()
	tr := newTracker(t, tracker.WithSink("panicking", bad), tracker.WithSink("healthy", good), tracker.WithDeadLetter(dl), h.option())
	l := startLoad(t, tr, sc)
	time.Sleep(sc.healthy)
	bad.on.Store(true)
	time.Sleep(sc.outage)
	bad.on.Store(false)
	time.Sleep(sc.recovered)
	c := l.finish()
	checkCaptureNeverBlocked(t, c)
	closeErr := tr.Close(context.Background())

	st := tr.Stats()
	dead := readDeadLetter(t, dl)
	fb := audit(t, c, st, outcome{sink: "panicking", delivered: bad.delivered(), deadLettered: dead["panicking"]}, h, expect{})
	fg := audit(t, c, st, outcome{sink: "healthy", delivered: good.delivered(), deadLettered: dead["healthy"]}, h, expect{})
	if fb.DeadLettered == 0 || st.Sinks["panicking"].Panics == 0 {
		t.Errorf("the sink's panics were not met: %d dead-lettered, %d panics", fb.DeadLettered, st.Sinks["panicking"].Panics)
	}
	if fg.Delivered != len(c.valid) {
		t.Errorf("the healthy sink got %d of %d events", fg.Delivered, len(c.valid))
	}
	var ue *tracker.UndeliveredError
	if !errors.As(closeErr, &ue) || ue.Sink != "panicking" || ue.DeadLettered != fb.DeadLettered {
		t.Errorf("Close: %v; want an *UndeliveredError naming the %d dead-lettered events", closeErr, fb.DeadLettered)
	}
	if closeErr == nil || !strings.Contains(closeErr.Error(), "Close") || !strings.Contains(closeErr.Error(), "panic") {
		t.Errorf("Close's error does not report the panic in the sink's Close: %v", closeErr)
	}
	dst := newRecording()
	fb.Replayed = replay(t, dl, "panicking", dst)
	mustComplete(t, c, fb, "panicking", merge(bad.delivered(), dst.delivered()), h)
	logFigures(t, fb, fg)
	t.Logf("%d panics recovered", st.Sinks["panicking"].Panics)
}

// TestStalledSinkDropsCountedAndSlowsNoOther stalls a sink whose queue
// then overflows: its drops are counted and named to the hook, by UUID,
// Capture never blocks, and the healthy sink beside it gets every event.
// Released, the stalled sink delivers what it had queued.
func TestStalledSinkDropsCountedAndSlowsNoOther(t *testing.T) {
	sc := size()
	dl := filepath.Join(t.TempDir(), "dead-letter.jsonl")
	stuck, good := newStalling(), newRecording()
	h := newHookLog()
	tr := newTracker(t, tracker.WithSink("stalled", stuck, tracker.WithQueueSize(1024)), tracker.WithSink("healthy", good),
		tracker.WithDeadLetter(dl), h.option())
	l := startLoad(t, tr, sc)
	time.Sleep(sc.healthy)
	stuck.stall()
	time.Sleep(sc.outage)
	stuck.release()
	time.Sleep(sc.recovered)
	c := l.finish()
	checkCaptureNeverBlocked(t, c)
	if err := tr.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}

	st := tr.Stats()
	dead := readDeadLetter(t, dl)
	fs := audit(t, c, st, outcome{sink: "stalled", delivered: stuck.delivered(), deadLettered: dead["stalled"]}, h, expect{overflow: true})
	fg := audit(t, c, st, outcome{sink: "healthy", delivered: good.delivered(), deadLettered: dead["healthy"]}, h, expect{})
	if fs.QueueFull == 0 {
		t.Errorf("the stalled sink's queue never overflowed")
	}
	if fg.Delivered != len(c.valid) {
		t.Errorf("the healthy sink got %d of %d events", fg.Delivered, len(c.valid))
	}
	logFigures(t, fs, fg)
}

// TestStalledSinkAtCloseIsDeadLettered closes a tracker whose sink is
// stalled in a Write that ignores its context: Close returns at its
// deadline, dead-letters the queue and the batch in the Write, and closes
// the sink once the Write returns.
func TestStalledSinkAtCloseIsDeadLettered(t *testing.T) {
	sc := size()
	dl := filepath.Join(t.TempDir(), "dead-letter.jsonl")
	stuck, good := newStalling(), newRecording()
	h := newHookLog()
	tr := newTracker(t, tracker.WithSink("stalled", stuck), tracker.WithSink("healthy", good), tracker.WithDeadLetter(dl), h.option())
	t.Cleanup(stuck.release)
	// A long stall overflows the queue too: those drops are counted.
	l := startLoad(t, tr, sc)
	time.Sleep(sc.healthy)
	stuck.stall()
	time.Sleep(sc.outage)
	c := l.finish()
	const deadline = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	closeErr := tr.Close(ctx)
	took := time.Since(start)
	stuck.release() // the Write returns: its batch is delivered too, a duplicate
	select {
	case <-stuck.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled sink was not closed once its Write returned")
	}

	if took > deadline+3*time.Second { // not a speed test: a Close that waited for the endpoint would take 10 s
		t.Errorf("Close took %v with a deadline of %v", took, deadline)
	}
	var ue *tracker.UndeliveredError
	if !errors.As(closeErr, &ue) || !errors.Is(closeErr, context.DeadlineExceeded) {
		t.Errorf("Close: %v; want an *UndeliveredError with the deadline as cause", closeErr)
	}
	st := tr.Stats()
	dead := readDeadLetter(t, dl)
	fs := audit(t, c, st, outcome{sink: "stalled", delivered: stuck.delivered(), deadLettered: dead["stalled"]}, h, expect{duplicates: true, overflow: true})
	fg := audit(t, c, st, outcome{sink: "healthy", delivered: good.delivered(), deadLettered: dead["healthy"]}, h, expect{})
	if fs.Duplicates > tracker.DefaultBatchSize {
		t.Errorf("%d events both delivered and dead-lettered: more than the one batch in the stalled Write", fs.Duplicates)
	}
	if fs.DeadLettered == 0 {
		t.Errorf("nothing dead-lettered at Close's deadline")
	}
	dst := newRecording()
	fs.Replayed = replay(t, dl, "stalled", dst)
	mustComplete(t, c, fs, "stalled", merge(stuck.delivered(), dst.delivered()), h)
	logFigures(t, fs, fg)
	t.Logf("Close returned in %v (deadline %v)", took.Round(time.Millisecond), deadline)
}

func merge(ms ...map[string]int) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}
