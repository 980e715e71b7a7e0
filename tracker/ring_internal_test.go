package tracker

import "testing"

// A queue that grew under a burst keeps its room across the worker's
// swaps: the buffer the worker takes whole (detachLocked) and empties
// (takeDetached) comes back as the queue's next buffer, whatever its size,
// so that the next burst does not grow one again, allocating and copying
// under the lock on the Captures' path.
func TestAQueueThatGrewKeepsItsRoomAcrossSwaps(t *testing.T) {
	const n = 4096 // well over a default batch
	w := &worker{q: ring{size: 2 * n}}
	e := Event{Name: "query_initiated"}
	batch := make([]Event, 0, n)
	for cycle := range 4 {
		for range n {
			w.q.push(&e)
		}
		w.mu.Lock()
		taken, held := w.detachLocked(batch[:0], n)
		w.mu.Unlock()
		if held.n != n {
			t.Fatalf("cycle %d: the worker took the buffer holding %d events, want the whole queue of %d", cycle, held.n, n)
		}
		if got := w.takeDetached(taken, held); len(got) != n {
			t.Fatalf("cycle %d: emptied %d events into the batch, want %d", cycle, len(got), n)
		}
		if cycle > 0 && len(w.q.buf) < n {
			t.Fatalf("cycle %d: after the swap the queue has room for %d events without growing, want %d: the buffer the worker emptied was let go", cycle, len(w.q.buf), n)
		}
		for i := range held.buf {
			if held.buf[i].Name != "" {
				t.Fatalf("cycle %d: the buffer kept as spare still holds an event at %d", cycle, i)
			}
		}
	}
}
