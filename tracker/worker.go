package tracker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
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

	mu              sync.Mutex
	ring            []Event // grows up to cfg.queueSize
	head, n         int
	inflight        int           // events taken by the worker and not yet accounted for
	inflightBatch   []Event       // those events, while Write has them
	inflightSpilled bool          // Close dead-lettered them: the Write overran its deadline
	pushed          uint64        // events ever put in the ring
	done            uint64        // events ever taken out of the ring and accounted for
	flushWant       uint64        // Flush calls so far: each asks for a sink flush of its own
	flushTarget     uint64        // pushed at the latest Flush call
	flushDone       uint64        // the Flush calls the last sink flush answered
	flushErr        error         // that sink flush's error
	flushers        int           // Flush calls waiting now
	flushCancel     func()        // cancels the sink flush under way, when nobody waits for it any more
	progress        chan struct{} // closed and replaced when done or flushDone advance
	space           chan struct{} // closed and replaced when events leave the ring
	closing         bool          // Close has begun: no more events are accepted
	abandoned       bool          // Close's deadline passed: write nothing more
	lateClose       bool          // Close gave up waiting for a Write: close the sink when it returns
	finished        bool          // the worker has decided about lateClose and is exiting
	lastErr         error         // the last reason events were not delivered
	abandonCause    error         // why Close abandoned the queue: its context's error
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
// waits only under the Block policy, at most the block timeout in all (the
// caller's context plays no part: delivery does not depend on it).
func (w *worker) enqueue(e *Event) {
	var timer *time.Timer
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
			if timer == nil {
				timer = time.NewTimer(w.cfg.blockTimeout)
				defer timer.Stop()
			}
			space := w.space
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

// takeLocked moves up to max events from the ring into batch, and wakes
// Captures waiting for room.
func (w *worker) takeLocked(batch []Event, max int) []Event {
	if w.n == 0 {
		return batch
	}
	for w.n > 0 && len(batch) < max {
		batch = append(batch, w.ring[w.head])
		w.ring[w.head] = Event{} // let the maps be collected
		w.head = (w.head + 1) % len(w.ring)
		w.n--
	}
	close(w.space)
	w.space = make(chan struct{})
	return batch
}

// progressLocked wakes Flush waiters.
func (w *worker) progressLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
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

// drain writes everything queued, flushing the sink when Flush asked. It
// reports false when the worker should stop.
func (w *worker) drain(batch *[]Event) bool {
	for {
		w.mu.Lock()
		if w.abandoned {
			w.mu.Unlock()
			return false
		}
		if w.flushWant > w.flushDone && w.done >= w.flushTarget {
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
		*batch = w.takeLocked((*batch)[:0], w.cfg.batchSize)
		if n := len(*batch); n > 0 {
			w.inflight, w.inflightBatch = n, *batch
			w.mu.Unlock()
			w.write(*batch)
			w.mu.Lock()
			w.inflight, w.inflightBatch, w.inflightSpilled = 0, nil, false
			clear(*batch) // under mu: Close may be copying it
			w.done += uint64(n)
			w.progressLocked()
			w.mu.Unlock()
			continue
		}
		if w.closing {
			w.flushDone, w.flushErr = w.flushWant, nil // Close flushes the sink itself
			w.progressLocked()
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
	return context.WithCancel(w.ctx)
}

// write hands one batch to the sink and accounts for every event in it.
func (w *worker) write(batch []Event) {
	ctx, cancel := w.opCtx()
	err := w.call("Write", func() error { return w.sink.Write(ctx, batch) })
	cancel()
	// In one step with Close: from here on Close does not dead-letter the
	// batch, or it already has (when the Write overran its deadline).
	w.mu.Lock()
	spilled := w.inflightSpilled
	w.inflightBatch = nil
	w.mu.Unlock()
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
	if !spilled {
		w.t.spill(w, batch)
	}
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
		w.t.logSinkError(w.name, "flush", 0, err)
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

// describePanic says what a recovered panic was without its value (which
// may carry event data), except for runtime errors, whose text is the
// runtime's own ("invalid memory address …").
func describePanic(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("a value of type %T", r)
}

// flush waits until every event pushed before the call is accounted for and
// the sink, if it is a Flusher, has been flushed after that.
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
		case w.abandoned || w.finished:
			w.flushers--
			w.mu.Unlock()
			return ErrClosed
		}
		ch := w.progress
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

// closeLate runs as the worker exits: when Close gave up waiting for a Write
// that ignored its cancelled context, the sink is closed once that Write
// returns, so that it can still release what it holds. Events it reports
// undelivered then can no longer reach the dead-letter file, and are
// counted in Stats.DeadLetterErrors.
func (w *worker) closeLate() {
	w.mu.Lock()
	late := w.lateClose
	w.finished = true
	w.progressLocked()
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

// closeGrace bounds how long Close waits, once it has cancelled a Write at
// its deadline, for that Write to return. When ctx has a deadline, writes
// are cancelled that much before it, so that Close still returns by it.
const closeGrace = 100 * time.Millisecond

// shutdown drains the queue into the sink and closes it, within ctx. What
// the sink did not get, or failed to deliver over the tracker's life, is
// reported in one *UndeliveredError.
func (w *worker) shutdown(ctx context.Context) error {
	errs := w.drainAndClose(ctx)
	c := &w.counters
	lost := c.failed.Load() + c.undelivered.Load() + c.shutdownDeadline.Load()
	if lost == 0 {
		return errs.ErrorOrNil()
	}
	w.mu.Lock()
	reason := w.lastErr
	if c.shutdownDeadline.Load() > 0 {
		reason = errors.Join(w.abandonCause, reason)
	}
	w.mu.Unlock()
	ue := &UndeliveredError{
		Sink:           w.name,
		Count:          int(lost),
		DeadLettered:   int(c.deadLettered.Load()),
		DeadLetterPath: w.t.deadLetterPath(),
		DeadLetterErr:  w.t.deadLetter.lastError(),
		Err:            reason,
	}
	return multierror.Append(ue, errs.WrappedErrors()...)
}

// drainAndClose delivers the queue and closes the sink; when ctx's deadline
// comes first, it takes what is still queued (counted and dead-lettered),
// cancels the Write under way, and closes the sink if that Write returns.
func (w *worker) drainAndClose(ctx context.Context) *multierror.Error {
	var errs *multierror.Error
	w.mu.Lock()
	w.closing = true
	close(w.space) // release Captures blocked for room: they see closing
	w.space = make(chan struct{})
	w.mu.Unlock()
	w.signal()

	// With a deadline, writes are cut off two grace periods before it and
	// the sink's Close is told one before it, so that sinks that honour
	// their context are done, and Close returns, by the deadline.
	soft, closeCtx, grace := ctx, ctx, closeGrace
	if deadline, ok := ctx.Deadline(); ok {
		grace = min(closeGrace, time.Until(deadline)/10)
		var cancel1, cancel2 context.CancelFunc
		soft, cancel1 = context.WithDeadline(ctx, deadline.Add(-2*grace))
		closeCtx, cancel2 = context.WithDeadline(ctx, deadline.Add(-grace))
		defer cancel1()
		defer cancel2()
	}
	select {
	case <-w.exited:
	case <-soft.Done():
		cause := ctx.Err()
		if cause == nil { // the soft deadline, just before ctx's
			cause = context.DeadlineExceeded
		}
		w.mu.Lock()
		w.abandoned = true
		w.abandonCause = cause
		rest := w.takeLocked(nil, w.n)
		w.done += uint64(len(rest))
		w.progressLocked()
		w.mu.Unlock()
		w.cancel()
		if len(rest) > 0 {
			w.counters.shutdownDeadline.Add(uint64(len(rest)))
			w.t.spill(w, rest)
		}
		timer := time.NewTimer(max(grace, time.Millisecond))
		select {
		case <-w.exited:
		case <-timer.C:
		}
		timer.Stop()
		w.mu.Lock()
		// The worker is still in the sink's code only while a Write has
		// inflightBatch or a Flush has flushCancel; otherwise it is finishing
		// its accounting and exits at once.
		overran := !w.finished && (w.inflightBatch != nil || w.flushCancel != nil)
		inflight := slices.Clone(w.inflightBatch)
		w.lateClose, w.inflightSpilled = overran, overran
		w.mu.Unlock()
		if overran {
			// The overrunning Write may never deliver its batch: a copy goes
			// to the dead letter now (a duplicate, if it does, that the
			// events' UUIDs let downstream drop).
			spilled := w.t.spill(w, inflight)
			return multierror.Append(errs, fmt.Errorf("sink %q: a Write or Flush (%d %s) still running after the deadline (%d written to the dead letter); the sink will be closed when it returns: %w",
				w.name, len(inflight), plural(len(inflight), "event", "events"), spilled, cause))
		}
		<-w.exited
	}
	w.cancel()
	if err := w.closeSink(closeCtx, ctx); err != nil {
		errs = multierror.Append(errs, err)
	}
	return errs
}

// closeSink calls the sink's Close with sinkCtx, and stops waiting for it
// when ctx ends (the call goes on and ends when the sink's Close returns).
func (w *worker) closeSink(sinkCtx, ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- w.call("Close", func() error { return w.sink.Close(sinkCtx) }) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		default:
			return fmt.Errorf("sink %q: Close still running after the deadline: %w", w.name, ctx.Err())
		}
	}
	if err != nil && !errors.Is(err, errPanic) {
		err = fmt.Errorf("sink %q: close: %w", w.name, err)
	}
	return err
}

// UndeliveredError, in Close's error, reports a sink's events that were not
// delivered: those still queued at Close's deadline, and those whose
// delivery failed during the tracker's life, in a Write or as reported by
// the sink. errors.Is finds the causes through it: the context's error when
// the deadline cut delivery short, and the last delivery error.
type UndeliveredError struct {
	Sink           string // the sink's name
	Count          int    // events not delivered
	DeadLettered   int    // how many of them were written to the dead-letter file
	DeadLetterPath string // the dead-letter file, if one is configured
	DeadLetterErr  error  // the last error writing the dead-letter file, if any
	Err            error  // why
}

func (e *UndeliveredError) Error() string {
	s := fmt.Sprintf("sink %q: %d %s not delivered", e.Sink, e.Count, plural(e.Count, "event", "events"))
	switch {
	case e.DeadLetterPath == "":
		s += " (lost: no dead-letter file configured)"
	case e.DeadLettered >= e.Count:
		s += fmt.Sprintf(" (all written to dead letter %s)", e.DeadLetterPath)
	default:
		s += fmt.Sprintf(" (%d written to dead letter %s, %d lost", e.DeadLettered, e.DeadLetterPath, e.Count-e.DeadLettered)
		if e.DeadLetterErr != nil {
			s += ": " + e.DeadLetterErr.Error()
		}
		s += ")"
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
