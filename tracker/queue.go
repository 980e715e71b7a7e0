package tracker

import "time"

// ring is a sink's bounded FIFO of events. It grows on demand up to its
// size, so that an idle sink with a large queue holds little memory. Its
// owner, the worker, guards it with its mutex.
type ring struct {
	buf     []Event
	head, n int
	size    int // the most events it holds
}

func (r *ring) full() bool { return r.n >= r.size }

// push appends e; the ring must not be full.
func (r *ring) push(e *Event) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = *e
	r.n++
}

// pop removes and returns the oldest event.
func (r *ring) pop() Event {
	e := r.buf[r.head]
	r.buf[r.head] = Event{} // let the maps be collected
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return e
}

// take moves up to max of the oldest events into batch.
func (r *ring) take(batch []Event, max int) []Event {
	for r.n > 0 && len(batch) < max {
		batch = append(batch, r.pop())
	}
	return batch
}

// grow doubles the ring, up to its size, keeping the order.
func (r *ring) grow() {
	size := min(max(2*len(r.buf), 64), r.size)
	buf := make([]Event, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// enqueue puts e in the sink's queue, or drops it as the overflow policy
// says: what happens when the queue is full. It waits only under the Block
// policy, at most the block timeout in all (the caller's context plays no
// part: delivery does not depend on it). Every drop is counted, logged
// (rate-limited) and reported to the undelivered hook before enqueue
// returns; an event refused because Close has begun also goes to the dead
// letter (undelivered.refused).
func (w *worker) enqueue(e *Event) {
	var timer *time.Timer
	w.mu.Lock()
	for {
		if w.state != open {
			w.mu.Unlock()
			w.counters.closed.Add(1)
			w.lost.refused(w.name, e, w.errClosed, &w.counters.deadLettered)
			return
		}
		if !w.q.full() {
			break
		}
		switch w.cfg.overflow {
		case DropOldest:
			old := w.q.pop()
			w.done++
			w.counters.queueFull.Add(1)
			w.log.drop(w.name)
			if w.lost.hook == nil {
				continue
			}
			// The hook runs without the lock; until it returns, no Flush
			// completes (see drain).
			w.evicting++
			w.mu.Unlock()
			w.lost.dropped(w.name, &old, w.errFull)
			w.mu.Lock()
			w.evicting--
			if w.evicting == 0 && w.flushWant > w.flushDone {
				w.signal()
			}
			continue
		case Block:
			if timer == nil {
				timer = time.NewTimer(w.cfg.blockTimeout)
				defer timer.Stop()
			}
			space := w.space.wait()
			w.mu.Unlock()
			w.signal()
			select {
			case <-space:
				w.mu.Lock()
				continue
			case <-timer.C:
			}
			w.mu.Lock()
		}
		w.mu.Unlock()
		w.counters.queueFull.Add(1)
		w.log.drop(w.name)
		w.lost.dropped(w.name, e, w.errFull)
		return
	}
	w.q.push(e)
	w.pushed++
	full := w.q.n == min(w.cfg.batchSize, w.cfg.queueSize) // wake once per batch, or when the queue fills
	w.mu.Unlock()
	if full {
		w.signal()
	}
}

// takeLocked moves up to max events from the queue into batch, and wakes
// Captures waiting for room.
func (w *worker) takeLocked(batch []Event, max int) []Event {
	if w.q.n == 0 {
		return batch
	}
	batch = w.q.take(batch, max)
	w.space.notify()
	return batch
}

// detachLocked takes up to max of the oldest events out of the queue, and
// wakes Captures waiting for room. When the queue holds no more than max,
// it takes the queue's buffer whole and puts the worker's spare in its
// place: the lock is held for a swap, not for copying a batch, so that a
// Capture hardly ever waits for the worker. The worker empties what it took
// into its batch (takeDetached) after unlocking.
func (w *worker) detachLocked(batch []Event, max int) ([]Event, ring) {
	if w.q.n == 0 {
		return batch, ring{}
	}
	if w.q.n > max {
		return w.takeLocked(batch, max), ring{}
	}
	held := w.q
	w.q = ring{buf: w.spare, size: held.size}
	w.spare = nil
	w.space.notify()
	return batch, held
}

// takeDetached moves the events of a buffer detachLocked took into batch,
// and keeps the buffer, emptied, as the next spare, whatever its size: a
// queue given a smaller one would grow it again on the Captures' path, one
// allocation and copy under the lock per doubling. So a sink's queue holds
// at most two buffers of its size (the ring never shrinks). Called by the
// worker without the lock: the buffer is the worker's alone.
func (w *worker) takeDetached(batch []Event, held ring) []Event {
	if held.n == 0 {
		return batch
	}
	batch = held.take(batch, held.n)
	w.spare = held.buf
	return batch
}
