package tracker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

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

// Under Block, the timeout bounds a Capture's whole wait, however often it
// is woken to find the queue full again.
func TestBlockTimeoutBoundsTheWait(t *testing.T) {
	const timeout = 20 * time.Millisecond
	tr := mustNew(t, tracker.WithSink("s", &slowSink{d: 5 * time.Millisecond}, tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(timeout)))
	var max atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				start := time.Now()
				tr.Capture(context.Background(), tracker.Event{Name: "e"})
				d := int64(time.Since(start))
				for {
					m := max.Load()
					if d <= m || max.CompareAndSwap(m, d) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	closeT(t, tr)
	if m := time.Duration(max.Load()); m > 25*timeout { // the defect was seconds
		t.Errorf("a Capture blocked %v; block timeout is %v", m, timeout)
	}
}

// A Capture blocked for room gets it as soon as the worker takes a batch
// from the queue, not when that batch's Write returns.
func TestBlockedCaptureGetsRoomWhenTheWorkerTakesABatch(t *testing.T) {
	s := &slowSink{d: 600 * time.Millisecond, entered: make(chan struct{})}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithQueueSize(4), tracker.WithBatchSize(4), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(300*time.Millisecond)))
	for i := 0; i < 4; i++ {
		tr.Capture(context.Background(), tracker.Event{Name: "e"})
	}
	tr.Capture(context.Background(), tracker.Event{Name: "e"}) // waits: the ring is full until the worker takes it
	st := tr.Stats().Sinks["s"]
	closeT(t, tr)
	if st.Dropped.QueueFull != 0 {
		t.Errorf("dropped %d under Block though the worker emptied the ring within microseconds (queued=%d)", st.Dropped.QueueFull, st.Queued)
	}
}

// Under Block, a cancelled Capture context (a finished request) does not cut
// the wait short: the context is for enrichment only.
func TestBlockIgnoresTheCallersCancellation(t *testing.T) {
	s := &slowSink{d: 20 * time.Millisecond}
	tr := mustNew(t, tracker.WithSink("s", s, tracker.WithQueueSize(1), tracker.WithBatchSize(1), tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Second)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 20; i++ {
		tr.Capture(ctx, tracker.Event{Name: "e"})
	}
	closeT(t, tr)
	if d := tr.Stats().Sinks["s"].Dropped.QueueFull; d != 0 {
		t.Errorf("Block with a 1s timeout dropped %d events because the request ctx was cancelled", d)
	}
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
