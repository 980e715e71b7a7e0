package tracker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// worker owns one sink: a bounded queue that Capture appends to without
// blocking, and a goroutine that takes batches from it and calls Write.
//
// The goroutine is woken only when a batch's worth of events is queued, when
// the flush interval passes, or by Flush and Close: never once per event,
// because waking a parked goroutine costs microseconds while Capture's whole
// budget is a few hundred nanoseconds.
type worker struct {
	t        *Tracker
	name     string
	sink     Sink
	cfg      sinkConfig
	counters sinkCounters

	ctx    context.Context // for Write and Flush; cancelled at Close's deadline
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1
	exited chan struct{} // closed when run returns

	mu        sync.Mutex
	ring      []Event // grows up to cfg.queueSize
	head, n   int
	inflight  int           // events taken by the worker and not yet accounted for
	pushed    uint64        // events ever put in the ring
	done      uint64        // events ever taken out of the ring and accounted for
	flushReq  uint64        // Flush wants done, then the sink flushed, up to here
	flushed   uint64        // the sink has been flushed after done reached this
	flushErr  error         // the error of the last sink flush
	progress  chan struct{} // closed and replaced when done or flushed advance
	space     chan struct{} // closed and replaced when events leave the ring
	closing   bool          // Close has begun: no more events are accepted
	abandoned bool          // Close's deadline passed: write nothing more
	lateClose bool          // Close gave up waiting for a Write: close the sink when it returns
	lastErr   error         // the last reason events were not delivered
	finished  bool          // the worker has decided about lateClose and is exiting
}

func newWorker(t *Tracker, spec sinkSpec) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{
		t:        t,
		name:     spec.name,
		sink:     spec.sink,
		cfg:      spec.cfg,
		ctx:      ctx,
		cancel:   cancel,
		wake:     make(chan struct{}, 1),
		exited:   make(chan struct{}),
		progress: make(chan struct{}),
		space:    make(chan struct{}),
	}
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// enqueue puts e in the queue, or drops it as the overflow policy says. It
// waits only under the Block policy, at most the block timeout.
func (w *worker) enqueue(ctx context.Context, e *Event) {
	w.mu.Lock()
	for {
		if w.closing {
			w.mu.Unlock()
			w.counters.closed.Add(1)
			return
		}
		if w.n < w.cfg.queueSize {
			break
		}
		switch w.cfg.overflow {
		case DropOldest:
			w.ring[w.head] = Event{}
			w.head = (w.head + 1) % len(w.ring)
			w.n--
			w.done++
			w.counters.queueFull.Add(1)
			w.t.logDrop(w.name)
			continue
		case Block:
			if w.waitForSpace(ctx) {
				continue
			}
		}
		w.mu.Unlock()
		w.counters.queueFull.Add(1)
		w.t.logDrop(w.name)
		return
	}
	if w.n == len(w.ring) {
		w.grow()
	}
	w.ring[(w.head+w.n)%len(w.ring)] = *e
	w.n++
	w.pushed++
	full := w.n == min(w.cfg.batchSize, w.cfg.queueSize) // wake once per batch, or when the queue fills
	w.mu.Unlock()
	if full {
		w.signal()
	}
}

// waitForSpace waits, with w.mu held and returned held, until the worker
// takes events out of the ring, the block timeout passes or ctx ends. It
// reports whether there may be room.
func (w *worker) waitForSpace(ctx context.Context) bool {
	space := w.space
	w.mu.Unlock()
	w.signal()
	timer := time.NewTimer(w.cfg.blockTimeout)
	defer timer.Stop()
	var cancelled <-chan struct{}
	if ctx != nil {
		cancelled = ctx.Done()
	}
	ok := false
	select {
	case <-space:
		ok = true
	case <-timer.C:
	case <-cancelled:
	}
	w.mu.Lock()
	return ok
}

// grow doubles the ring, up to the queue size, keeping the order.
func (w *worker) grow() {
	size := max(2*len(w.ring), 64)
	size = min(size, w.cfg.queueSize)
	ring := make([]Event, size)
	for i := 0; i < w.n; i++ {
		ring[i] = w.ring[(w.head+i)%len(w.ring)]
	}
	w.ring, w.head = ring, 0
}

// takeLocked moves up to max events from the ring into batch.
func (w *worker) takeLocked(batch []Event, max int) []Event {
	for w.n > 0 && len(batch) < max {
		batch = append(batch, w.ring[w.head])
		w.ring[w.head] = Event{} // let the maps be collected
		w.head = (w.head + 1) % len(w.ring)
		w.n--
	}
	return batch
}

// broadcastLocked wakes Flush waiters (progress) and blocked Captures (space).
func (w *worker) broadcastLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
	close(w.space)
	w.space = make(chan struct{})
}

func (w *worker) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n + w.inflight
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

// drain writes everything queued, then flushes the sink if Flush asked. It
// reports false when the worker should stop.
func (w *worker) drain(batch *[]Event) bool {
	for {
		w.mu.Lock()
		if w.abandoned {
			w.mu.Unlock()
			return false
		}
		if w.flushReq > w.flushed && w.done >= w.flushReq {
			upTo := w.done
			w.mu.Unlock()
			err := w.flushSink()
			w.mu.Lock()
			w.flushed, w.flushErr = upTo, err
			w.broadcastLocked()
			w.mu.Unlock()
			continue
		}
		*batch = w.takeLocked((*batch)[:0], w.cfg.batchSize)
		if n := len(*batch); n > 0 {
			w.inflight = n
			w.mu.Unlock()
			w.write(*batch)
			clear(*batch)
			w.mu.Lock()
			w.inflight = 0
			w.done += uint64(n)
			w.broadcastLocked()
			w.mu.Unlock()
			continue
		}
		if w.closing {
			w.flushed = w.done // Close flushes the sink itself
			w.broadcastLocked()
			w.mu.Unlock()
			return false
		}
		w.mu.Unlock()
		return true
	}
}

func (w *worker) opCtx() (context.Context, context.CancelFunc) {
	if w.cfg.writeTimeout > 0 {
		return context.WithTimeout(w.ctx, w.cfg.writeTimeout)
	}
	return w.ctx, func() {}
}

// write hands one batch to the sink and accounts for every event in it.
func (w *worker) write(batch []Event) {
	ctx, cancel := w.opCtx()
	err := w.call("Write", func() error { return w.sink.Write(ctx, batch) })
	cancel()
	w.counters.batches.Add(1)
	n := uint64(len(batch))
	if err == nil {
		w.counters.delivered.Add(n)
		return
	}
	w.counters.failed.Add(n)
	w.noteFailure(err)
	if !errors.Is(err, errPanic) {
		w.counters.writeErrors.Add(1)
	}
	w.t.logSinkError(w.name, "write", len(batch), err)
	w.t.spill(w, batch)
}

// noteFailure records why events were last not delivered.
func (w *worker) noteFailure(err error) {
	w.counters.lastError.Store(time.Now().UnixNano())
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
}

func (w *worker) flushSink() error {
	f, ok := w.sink.(Flusher)
	if !ok {
		return nil
	}
	ctx, cancel := w.opCtx()
	defer cancel()
	err := w.call("Flush", func() error { return f.Flush(ctx) })
	if err != nil {
		w.t.logSinkError(w.name, "flush", 0, err)
	}
	return err
}

var errPanic = errors.New("panic")

// call runs one of the sink's methods, turning a panic into an error.
func (w *worker) call(method string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.counters.panics.Add(1)
			err = fmt.Errorf("sink %q: %s: %w: %v", w.name, method, errPanic, r)
		}
	}()
	return f()
}

// flush waits until every event pushed before the call is accounted for and
// the sink, if it is a Flusher, has been flushed.
func (w *worker) flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.pushed
	if target > w.flushReq {
		w.flushReq = target
	}
	w.mu.Unlock()
	w.signal()
	for {
		w.mu.Lock()
		if w.flushed >= target {
			err := w.flushErr
			w.mu.Unlock()
			return err
		}
		if w.abandoned || (w.closing && w.exitedLocked()) {
			w.mu.Unlock()
			return ErrClosed
		}
		ch := w.progress
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *worker) exitedLocked() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// closeLate runs as the worker exits: when Close gave up waiting for a Write
// that ignored its cancelled context, the sink is closed once that Write
// returns, so that it can still release what it holds. Events it reports
// undelivered then can no longer reach the dead-letter file, and are
// counted in Stats.DeadLetterErrors.
func (w *worker) closeLate() {
	w.mu.Lock()
	late := w.lateClose
	w.finished = true
	w.mu.Unlock()
	if !late {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	if err := w.call("Close", func() error { return w.sink.Close(ctx) }); err != nil {
		w.t.logSinkError(w.name, "close", 0, err)
	}
}

// closeGrace is how long Close waits, after its deadline, for a Write that
// honours its cancelled context to return.
const closeGrace = 100 * time.Millisecond

// shutdown drains the queue into the sink until ctx ends, then closes the
// sink. Events still queued at the deadline are counted, dead-lettered and
// reported in the error.
func (w *worker) shutdown(ctx context.Context) error {
	rest, err := w.drainOrAbandon(ctx)
	// Events whose delivery failed (a Write error or panic, a sink
	// reporting what it never got acknowledged), over the tracker's life,
	// are named in Close's error too, with where they went.
	c := &w.counters
	if lost := c.failed.Load() + c.undelivered.Load(); lost > 0 {
		w.mu.Lock()
		reason := w.lastErr
		w.mu.Unlock()
		spilled := c.deadLettered.Load() - uint64(rest)
		err = errors.Join(&UndeliveredError{Sink: w.name, Count: int(lost), DeadLettered: int(spilled), DeadLetterPath: w.t.deadLetterPath(), Err: reason}, err)
	}
	return err
}

// drainOrAbandon delivers the queue and closes the sink, or, when ctx ends
// first, takes what is still queued; it returns how many events it took.
func (w *worker) drainOrAbandon(ctx context.Context) (int, error) {
	rest := 0
	w.mu.Lock()
	w.closing = true
	w.broadcastLocked() // release Captures blocked for space
	w.mu.Unlock()
	w.signal()

	var errs []error
	select {
	case <-w.exited:
	case <-ctx.Done():
		w.mu.Lock()
		w.abandoned = true
		taken := w.takeLocked(nil, w.n)
		w.done += uint64(len(taken))
		w.broadcastLocked()
		w.mu.Unlock()
		w.cancel()
		timer := time.NewTimer(closeGrace)
		select {
		case <-w.exited:
		case <-timer.C:
		}
		timer.Stop()
		rest = len(taken)
		if len(taken) > 0 {
			w.counters.shutdownDeadline.Add(uint64(len(taken)))
			spilled := w.t.spill(w, taken)
			errs = append(errs, &UndeliveredError{Sink: w.name, Count: len(taken), DeadLettered: spilled, DeadLetterPath: w.t.deadLetterPath(), Err: ctx.Err()})
		}
		w.mu.Lock()
		finished := w.finished
		inflight := w.inflight
		w.lateClose = !finished
		w.mu.Unlock()
		if finished {
			<-w.exited
		} else {
			errs = append(errs, fmt.Errorf("sink %q: Write of %d events still running after the deadline; the sink will be closed when it returns: %w", w.name, inflight, ctx.Err()))
			return rest, errors.Join(errs...)
		}
	}
	w.cancel()
	err := w.call("Close", func() error { return w.sink.Close(ctx) })
	if err != nil {
		if !errors.Is(err, errPanic) {
			err = fmt.Errorf("sink %q: close: %w", w.name, err)
		}
		errs = append(errs, err)
	}
	return rest, errors.Join(errs...)
}

// UndeliveredError, in Close's error, reports a sink's events that were not
// delivered: those still queued at Close's deadline (Err is the context's
// error), and those whose delivery failed during the tracker's life, in a
// Write or as reported by the sink (Err is the last such error). errors.Is
// finds the cause through it.
type UndeliveredError struct {
	Sink           string // the sink's name
	Count          int    // events not delivered
	DeadLettered   int    // how many of them were written to the dead-letter file
	DeadLetterPath string // the dead-letter file, if one is configured
	Err            error  // why
}

func (e *UndeliveredError) Error() string {
	s := fmt.Sprintf("sink %q: %d %s not delivered", e.Sink, e.Count, plural(e.Count, "event", "events"))
	switch {
	case e.DeadLetterPath == "":
		s += " (lost: no dead-letter file configured)"
	case e.DeadLettered == e.Count:
		s += fmt.Sprintf(" (all written to dead letter %s)", e.DeadLetterPath)
	default:
		s += fmt.Sprintf(" (%d written to dead letter %s, %d lost)", e.DeadLettered, e.DeadLetterPath, e.Count-e.DeadLettered)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *UndeliveredError) Unwrap() error { return e.Err }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
