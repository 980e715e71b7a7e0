package tracker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// state is a worker's place in its life; it only moves forward.
type state uint8

const (
	open      state = iota // accepting events
	closing                // Close has begun: no event is accepted; the worker drains the queue
	abandoned              // Close's deadline passed: the worker writes nothing more
	overran                // Close gave up waiting for a Write or Flush: the worker closes the sink once it returns
	exited                 // the worker goroutine is done
)

// worker owns one sink: a bounded queue that Capture appends to without
// blocking (queue.go), and a goroutine that takes batches from it and calls
// Write. Close stops it (shutdown.go).
//
// The goroutine is woken only when a batch's worth of events is queued, when
// the flush interval passes, or by Flush and Close: never once per event,
// because waking a parked goroutine costs microseconds while Capture's whole
// budget is a few hundred nanoseconds.
type worker struct {
	name     string
	sink     Sink
	cfg      sinkConfig
	counters sinkCounters
	lost     *undelivered // where events the sink did not get or deliver go
	log      *diag

	errFull, errClosed error // the reasons given to the undelivered hook

	ctx    context.Context // for Write and Flush; cancelled at Close's deadline
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1
	exited chan struct{} // closed when run returns

	mu            sync.Mutex
	state         state
	q             ring
	spare         []Event   // the worker's: an empty buffer the queue swaps in (detachLocked)
	inflight      int       // events taken by the worker and not yet accounted for
	inflightBatch []Event   // those events, while Write has them
	pushed        uint64    // events ever put in the queue
	done          uint64    // events ever taken out of the queue and accounted for
	flushWant     uint64    // Flush calls so far: each asks for a sink flush of its own
	flushTarget   uint64    // pushed at the latest Flush call
	flushDone     uint64    // the Flush calls the last sink flush answered
	flushErr      error     // that sink flush's error
	flushers      int       // Flush calls waiting now
	evicting      int       // evicted events being reported to the hook
	flushCancel   func()    // cancels the sink flush under way, when nobody waits for it any more
	progress      broadcast // when done or flushDone advance
	space         broadcast // when events leave the queue
	lastErr       error     // the last reason events were not delivered
	deadlineCause error     // why Close gave up at its deadline: its context's error

	claims    claims    // each undelivered event reported and dead-lettered once
	tally     tally     // what Close's error counts
	reporting reporting // the sink's reports under way
}

func newWorker(spec sinkSpec, lost *undelivered, log *diag) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{
		name:      spec.name,
		sink:      spec.sink,
		cfg:       spec.cfg,
		lost:      lost,
		log:       log,
		errFull:   fmt.Errorf("sink %q: %w", spec.name, ErrQueueFull),
		errClosed: fmt.Errorf("sink %q: %w", spec.name, ErrClosed),
		ctx:       ctx,
		cancel:    cancel,
		wake:      make(chan struct{}, 1),
		exited:    make(chan struct{}),
		q:         ring{size: spec.cfg.queueSize},
	}
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// progressLocked wakes Flush waiters.
func (w *worker) progressLocked() { w.progress.notify() }

// broadcast wakes every goroutine waiting on it at once. Its channel is
// made by the first waiter, so that the worker's notifications, under its
// lock and once a batch, allocate nothing when nobody waits: an allocation
// there could make the worker assist the garbage collector with the lock
// held, while Captures wait for it. Guarded by the worker's mutex.
type broadcast struct{ ch chan struct{} }

// wait returns the channel the next notify closes.
func (b *broadcast) wait() <-chan struct{} {
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// notify wakes the waiters.
func (b *broadcast) notify() {
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

func (w *worker) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.q.n + w.inflight
}

// run is the worker goroutine; the Tracker owns it and Close stops it.
func (w *worker) run() {
	defer close(w.exited)
	defer w.closeLate()
	ticker := time.NewTicker(w.cfg.flushInterval)
	defer ticker.Stop()
	batch := make([]Event, 0, w.cfg.batchSize)
	for {
		select {
		case <-w.wake:
		case <-ticker.C:
		}
		if !w.drain(&batch) {
			return
		}
	}
}

// drain writes everything queued, flushing the sink when Flush asked. It
// reports false when the worker should stop.
func (w *worker) drain(batch *[]Event) bool {
	for {
		w.mu.Lock()
		if w.state >= abandoned {
			w.mu.Unlock()
			return false
		}
		if w.flushWant > w.flushDone && w.done >= w.flushTarget && w.evicting == 0 {
			want := w.flushWant
			var err error
			if w.flushers == 0 { // every caller gave up: do not hold the queue up
				err = context.Canceled
			} else {
				ctx, cancel := w.opCtx()
				w.flushCancel = cancel // also says a sink Flush is under way
				w.mu.Unlock()
				err = w.flushSink(ctx)
				cancel()
				w.mu.Lock()
				w.flushCancel = nil
			}
			w.flushDone, w.flushErr = want, err
			w.progressLocked()
			w.mu.Unlock()
			continue
		}
		var held ring
		*batch, held = w.detachLocked((*batch)[:0], w.cfg.batchSize)
		if n := len(*batch) + held.n; n > 0 {
			// The batch is copied out of the queue's buffer and the UUIDs'
			// texts written here, without the lock (Captures wait for
			// neither), before Close can see the batch (inflightBatch).
			w.inflight = n
			w.mu.Unlock()
			*batch = w.takeDetached(*batch, held)
			setUUIDs(*batch)
			w.mu.Lock()
			if w.state >= abandoned {
				w.mu.Unlock()
				w.giveUp(*batch)
				return false
			}
			w.inflightBatch = *batch
			w.mu.Unlock()
			w.write(*batch)
			// Close no longer sees the batch (write took it out of
			// inflightBatch): it is cleared without the lock.
			clear(*batch)
			w.mu.Lock()
			w.inflight = 0
			w.done += uint64(n)
			w.progressLocked()
			w.mu.Unlock()
			continue
		}
		if w.state == closing {
			w.flushDone, w.flushErr = w.flushWant, nil // Close flushes the sink itself
			w.progressLocked()
			w.mu.Unlock()
			return false
		}
		w.mu.Unlock()
		return true
	}
}

// giveUp reports a batch the worker had taken when Close abandoned the
// queue at its deadline, as Close reports what was still queued.
func (w *worker) giveUp(batch []Event) {
	w.mu.Lock()
	w.inflight = 0
	w.done += uint64(len(batch))
	cause := w.deadlineCause
	w.progressLocked()
	w.mu.Unlock()
	w.loseAtDeadline(batch, cause)
	clear(batch)
}

// loseAtDeadline reports events still queued, or taken and not yet
// written, when Close gave up at its deadline: counted, dead-lettered and in
// Close's error, as every undelivered event (lose).
func (w *worker) loseAtDeadline(events []Event, cause error) {
	w.counters.shutdownDeadline.Add(uint64(len(events)))
	w.lose(events, fmt.Errorf("sink %q: %w: still queued at Close's deadline: %w", w.name, ErrClosed, cause))
}

func (w *worker) opCtx() (context.Context, context.CancelFunc) {
	if w.cfg.writeTimeout > 0 {
		return context.WithTimeout(w.ctx, w.cfg.writeTimeout)
	}
	return context.WithCancel(w.ctx)
}

// write hands one batch to the sink and accounts for every event in it.
func (w *worker) write(batch []Event) {
	n := len(batch)
	ctx, cancel := w.opCtx()
	w.claims.startWrite()
	err := w.call("Write", func() error { return w.sink.Write(ctx, batch) })
	cancel()
	// In one step with Close: from here on Close does not report the batch,
	// or it already has (the Write overran Close's deadline).
	w.mu.Lock()
	overrun := w.state == overran
	cut := w.state >= abandoned
	w.inflightBatch = nil
	w.mu.Unlock()
	// What the sink reported during the Write is not reported again.
	batch = w.claims.endWrite(batch, err != nil && !overrun)
	w.counters.batches.Add(1)
	if err == nil {
		w.counters.delivered.Add(uint64(n))
		return
	}
	w.counters.failed.Add(uint64(n))
	w.noteFailure(err)
	if !errors.Is(err, errPanic) {
		w.counters.writeErrors.Add(1)
	}
	w.log.sinkError(w.name, "write", n, err)
	if overrun {
		return
	}
	reason := err
	if cut { // Close cancelled the Write at its deadline
		reason = fmt.Errorf("sink %q: %w: Write cut short at Close's deadline: %w", w.name, ErrClosed, err)
	}
	w.lose(batch, reason)
}

// undelivered is the UndeliveredFunc given to a sink that reports events
// it finally could not deliver, during Write or after it. Events of a batch
// Close has dead-lettered already (its Write overran the deadline) are
// counted, and not reported or written again.
func (w *worker) undelivered(events []Event, reason error) {
	w.reporting.begin()
	defer w.reporting.end()
	w.counters.undelivered.Add(uint64(len(events)))
	events = w.claims.claim(events)
	if len(events) == 0 {
		return
	}
	w.noteFailure(reason)
	w.log.sinkError(w.name, "deliver", len(events), reason)
	w.lose(events, reason)
}

// lose hands events the sink did not get or did not deliver to the hook and
// the dead letter, then counts them, with how many the dead letter took, for
// Stats and for Close's error.
func (w *worker) lose(events []Event, reason error) {
	n := w.lost.failed(w.name, events, reason)
	w.counters.deadLettered.Add(uint64(n))
	w.tally.add(len(events), n)
}

// noteFailure records why events were last not delivered.
func (w *worker) noteFailure(err error) {
	w.counters.lastError.Store(time.Now().UnixNano())
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
}

// flushSink flushes a sink that is a Flusher. ctx is cancelled when every
// Flush call waiting for it has given up.
func (w *worker) flushSink(ctx context.Context) error {
	f, ok := w.sink.(Flusher)
	if !ok {
		return nil
	}
	err := w.call("Flush", func() error { return f.Flush(ctx) })
	if err != nil {
		w.log.sinkError(w.name, "flush", 0, err)
	}
	return err
}

var errPanic = errors.New("panic")

// call runs one of the sink's methods, turning a panic into an error that
// names the panic's type but not its value, which may hold event data.
func (w *worker) call(method string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.counters.panics.Add(1)
			err = fmt.Errorf("sink %q: %s: %w: %s", w.name, method, errPanic, describePanic(r))
		}
	}()
	return f()
}

// flush is the barrier: it waits until every event pushed before the call
// is accounted for and the sink, if it is a Flusher, has been flushed after
// that. Flush's marker is flushTarget; the worker answers it in drain.
func (w *worker) flush(ctx context.Context) error {
	w.mu.Lock()
	w.flushWant++
	w.flushers++
	want := w.flushWant
	w.flushTarget = w.pushed
	w.mu.Unlock()
	w.signal()
	for {
		w.mu.Lock()
		switch {
		case w.flushDone >= want:
			err := w.flushErr
			w.flushers--
			w.mu.Unlock()
			return err
		case w.state >= abandoned:
			w.flushers--
			w.mu.Unlock()
			return ErrClosed
		}
		ch := w.progress.wait()
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			w.mu.Lock()
			w.flushers--
			if w.flushers == 0 && w.flushCancel != nil {
				w.flushCancel() // nobody waits for the sink's flush any more
			}
			w.mu.Unlock()
			return ctx.Err()
		}
	}
}
