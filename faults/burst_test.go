package faults

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// bitset marks events by index, from many goroutines at once.
type bitset []atomic.Uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// set marks i and says whether it was marked already.
func (b bitset) set(i int) (was bool) {
	m := uint64(1) << (i % 64)
	return b[i/64].Or(m)&m != 0
}

func (b bitset) has(i int) bool { return b[i/64].Load()&(uint64(1)<<(i%64)) != 0 }

// burstIndex is the index of goroutine g's i-th event among per events a
// goroutine, read from its UUID (eventUUID's layout) without allocating.
func burstIndex(u string, per int) (int, bool) {
	g, err1 := strconv.ParseUint(u[9:13], 16, 32)
	i, err2 := strconv.ParseUint(u[24:], 16, 64)
	if err1 != nil || err2 != nil || int(i) >= per {
		return 0, false
	}
	return int(g)*per + int(i), true
}

// heapPeak samples the heap while a burst runs.
type heapPeak struct {
	samples      []metrics.Sample
	peak, live   atomic.Uint64 // bytes: heap objects (live and not yet swept), live heap after the last GC
	stop, exited chan struct{}
}

func sampleHeap() *heapPeak {
	h := &heapPeak{
		samples: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}},
		stop:    make(chan struct{}), exited: make(chan struct{}),
	}
	go func() {
		defer close(h.exited)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			metrics.Read(h.samples)
			peak(&h.peak, h.samples[0].Value.Uint64())
			peak(&h.live, h.samples[1].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) end() (peakBytes, liveBytes uint64) {
	close(h.stop)
	<-h.exited
	return h.peak.Load(), h.live.Load()
}

func peak(p *atomic.Uint64, v uint64) {
	for old := p.Load(); v > old && !p.CompareAndSwap(old, v); old = p.Load() {
	}
}

// liveHeap is the live heap after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

const mib = 1 << 20

// TestBurstAgainstStalledSinkStaysWithinQueueBound captures a burst of
// events (5,000,000 in the long run) from several goroutines, as fast as
// they can, into a tracker whose only sink is stalled: the queue holds what
// it can, the rest is dropped and counted, and the live heap never grows
// past what a full queue holds. Released, the sink gets exactly the queued
// events; every other one was named to the hook as a queue drop.
func TestBurstAgainstStalledSinkStaysWithinQueueBound(t *testing.T) {
	sc := size()
	per := sc.burst / sc.goroutines
	n := per * sc.goroutines
	delivered, dropped := newBitset(n), newBitset(n)
	var foreign, twice atomic.Int64
	mark := func(b bitset, events []tracker.Event) {
		for _, e := range events {
			i, ok := burstIndex(e.UUID, per)
			switch {
			case !ok:
				foreign.Add(1)
			case b.set(i):
				twice.Add(1)
			}
		}
	}
	stuck := &markingStall{stalling: newStalling(), mark: func(ev []tracker.Event) { mark(delivered, ev) }}
	hook := func(_ string, events []tracker.Event, reason error) {
		if errors.Is(reason, tracker.ErrQueueFull) {
			mark(dropped, events)
		}
	}
	stuck.stall()
	defer stuck.release()
	tr := newTracker(t, tracker.WithSink("stalled", stuck), tracker.WithUndeliveredHook(hook))
	run := nextRun()
	capture := func(g, from, to int) {
		ctx := tracker.WithOrganization(context.Background(), fmt.Sprintf("org_%d", g))
		for i := from; i < to; i++ {
			e := newEvent(run, g, i)
			if isBad(i) { // the burst is of valid events only
				delete(e.Properties, "ratio")
			}
			tr.Capture(ctx, e)
		}
	}

	// Fill the queue, and the batch the stalled Write holds, and measure
	// what they hold on the heap.
	base := liveHeap()
	full := tracker.DefaultQueueSize + tracker.DefaultBatchSize
	capture(0, 0, full)
	waitQueued(t, tr, full)
	withQueue := liveHeap()
	queueBytes := withQueue - min(base, withQueue)

	start := time.Now()
	h := sampleHeap()
	var wg sync.WaitGroup
	for g := range sc.goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := 0
			if g == 0 {
				from = full
			}
			capture(g, from, per)
		}()
	}
	wg.Wait()
	peakBytes, peakLive := h.end()
	took := time.Since(start)

	stuck.release()
	if err := tr.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	st := tr.Stats()
	ss := st.Sinks["stalled"]
	if foreign.Load() > 0 || twice.Load() > 0 {
		t.Errorf("%d events not of the burst, %d marked twice", foreign.Load(), twice.Load())
	}
	var nd, nq, neither int
	for i := range n {
		d, q := delivered.has(i), dropped.has(i)
		switch {
		case d && q:
			t.Fatalf("event %d both delivered and dropped", i)
		case d:
			nd++
		case q:
			nq++
		default:
			neither++
		}
	}
	if neither > 0 {
		t.Errorf("%d events neither delivered nor reported dropped", neither)
	}
	if nd != full || int(ss.Delivered) != full {
		t.Errorf("the released sink got %d events (Stats: %d), want the %d it held", nd, ss.Delivered, full)
	}
	if int(ss.Dropped.QueueFull) != nq || int(st.Captured) != n {
		t.Errorf("Stats: %d captured, %d dropped; by UUID %d captured, %d dropped", st.Captured, ss.Dropped.QueueFull, n, nq)
	}
	// The bound: the baseline, the full queue, and a little for the
	// goroutines' own events in flight. Garbage (dropped events) may
	// raise the heap between collections, never the live heap.
	bound := base + queueBytes + 16*mib
	if peakLive > bound {
		t.Errorf("the live heap peaked at %.1f MiB during the burst, over the bound %.1f MiB (baseline %.1f + full queue %.1f + 16)",
			float64(peakLive)/mib, float64(bound)/mib, float64(base)/mib, float64(queueBytes)/mib)
	}
	t.Logf("figures: burst of %d events from %d goroutines in %v (%.0f events/s) against a stalled sink: %d queued and delivered, %d dropped and counted; heap: baseline %.1f MiB, full queue %.1f MiB (%d events, %.0f B each), peak live %.1f MiB, peak heap %.1f MiB",
		n, sc.goroutines, took.Round(time.Millisecond), float64(n-full)/took.Seconds(), nd, nq,
		float64(base)/mib, float64(queueBytes)/mib, full, float64(queueBytes)/float64(full), float64(peakLive)/mib, float64(peakBytes)/mib)
}

// waitQueued waits until the tracker holds n events (queued, or in the
// stalled Write).
func waitQueued(t *testing.T, tr *tracker.Tracker, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); tr.Stats().Sinks["stalled"].Queued != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want %d", tr.Stats().Sinks["stalled"].Queued, n)
		}
	}
}

// markingStall is a stalling sink that marks what it delivers in a bitset
// rather than remembering UUIDs.
type markingStall struct {
	*stalling
	mark func([]tracker.Event)
}

func (s *markingStall) Write(_ context.Context, events []tracker.Event) error {
	s.wait()
	s.mark(events)
	return nil
}
