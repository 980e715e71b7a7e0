package tracker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/multitrack/multitrack/internal/plural"
)

// closeGrace bounds how long Close waits, once it has cancelled a Write at
// its deadline, for that Write to return. When ctx has a deadline, writes
// are cancelled that much before it, so that Close still returns by it.
const closeGrace = 100 * time.Millisecond

// shutdown drains the queue into the sink and closes it, within ctx. What
// the sink did not get, or failed to deliver over the tracker's life, is
// reported in one *UndeliveredError: what is known when it returns (see
// ErrStillRunning for what a sink still running reports later).
func (w *worker) shutdown(ctx context.Context) error {
	errs := w.drainAndClose(ctx)
	// A report under way is written to the dead letter before Close
	// returns, and counted, whatever the deadline: it is a local append.
	w.reporting.wait()
	lost, written := w.tally.read()
	if lost == 0 {
		return errs.ErrorOrNil()
	}
	w.mu.Lock()
	reason := w.lastErr
	if w.deadlineCause != nil {
		reason = errors.Join(w.deadlineCause, reason)
	}
	w.mu.Unlock()
	ue := &UndeliveredError{
		Sink:           w.name,
		Count:          lost,
		DeadLettered:   written,
		DeadLetterPath: w.lost.path(),
		DeadLetterErr:  w.lost.lastFileError(),
		Err:            reason,
	}
	return multierror.Append(ue, errs.WrappedErrors()...)
}

// drainAndClose delivers the queue and closes the sink. When ctx's deadline
// comes first, it takes what is still queued (counted and reported as
// undelivered), cancels the Write under way, and leaves the sink to be
// closed by the worker (closeLate) if that Write does not return in time.
func (w *worker) drainAndClose(ctx context.Context) *multierror.Error {
	var errs *multierror.Error
	w.mu.Lock()
	w.state = closing
	w.space.notify() // release Captures blocked for room: they see closing
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
		if err := w.abandon(ctx, grace); err != nil {
			return multierror.Append(errs, err)
		}
	}
	w.cancel()
	if err := w.closeSink(closeCtx, ctx, grace); err != nil {
		errs = multierror.Append(errs, err)
	}
	return errs
}

// abandon gives up on delivery at Close's deadline: what is queued is
// reported undelivered, the Write under way is cancelled and given a grace
// period. When it overruns that too, its batch is reported as well (a
// duplicate, if it does deliver, that the events' UUIDs let downstream
// drop), but for what the sink reported itself during the Write, and the
// error says the sink will be closed when it returns.
func (w *worker) abandon(ctx context.Context, grace time.Duration) error {
	cause := ctx.Err()
	if cause == nil { // the soft deadline, just before ctx's
		cause = context.DeadlineExceeded
	}
	w.mu.Lock()
	w.state = abandoned
	w.deadlineCause = cause
	rest := w.takeLocked(nil, w.q.n)
	w.done += uint64(len(rest))
	w.progressLocked()
	w.mu.Unlock()
	w.cancel()
	if len(rest) > 0 {
		setUUIDs(rest)
		w.loseAtDeadline(rest, cause)
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
	inSink := w.state != exited && (w.inflightBatch != nil || w.flushCancel != nil)
	var batch []Event
	if inSink {
		w.state = overran
		// Close takes the batch but for what the sink has reported of it;
		// the sink's later reports of what Close took are left out.
		batch = w.claims.abandon(w.inflightBatch)
	}
	w.mu.Unlock()
	if !inSink {
		<-w.exited
		return nil
	}
	w.lose(batch, fmt.Errorf("sink %q: %w: a Write still running at Close's deadline: %w", w.name, ErrClosed, cause))
	return fmt.Errorf("sink %q: a Write or Flush %w after the deadline; the sink will be closed when it returns, and %s: %w",
		w.name, ErrStillRunning, w.later(), cause)
}

// later says where what a sink still running reports undelivered goes.
func (w *worker) later() string {
	if p := w.lost.path(); p != "" {
		return "what it reports undelivered later goes to the dead letter " + p + ", not into this error"
	}
	return "what it reports undelivered later is counted in Stats (no dead letter), not in this error"
}

// closeSink calls the sink's Close with sinkCtx, and stops waiting for it
// when ctx ends (the call goes on and ends when the sink's Close returns),
// unless it is reporting undelivered events then (see linger).
func (w *worker) closeSink(sinkCtx, ctx context.Context, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- w.call("Close", func() error { return w.sink.Close(sinkCtx) }) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		var ok bool
		if err, ok = w.linger(done, grace); !ok {
			return fmt.Errorf("sink %q: Close %w after the deadline; %s: %w", w.name, ErrStillRunning, w.later(), ctx.Err())
		}
	}
	if err != nil && !errors.Is(err, errPanic) {
		err = fmt.Errorf("sink %q: close: %w", w.name, err)
	}
	return err
}

// linger runs at Close's deadline while the sink's Close is still running.
// If that Close is reporting undelivered events (writing them to the dead
// letter: the PostHog sink does so at its very end), it waits for those
// reports, and between them up to grace in all for the sink's Close to
// return or report more, so that what the sink gives up on at the end is on
// disk, and in Close's error, when Close returns. It says whether the sink's
// Close returned, and with what.
func (w *worker) linger(done <-chan error, grace time.Duration) (error, bool) {
	n, change := w.reporting.watch()
	budget := grace // waited between reports, in all
	if n == 0 {
		budget = 0 // not reporting at the deadline: not waited for
	}
	for {
		if n == 0 && budget <= 0 {
			select {
			case err := <-done:
				return err, true
			default:
				return nil, false
			}
		}
		var idle <-chan time.Time
		var timer *time.Timer
		if n == 0 {
			timer = time.NewTimer(budget)
			idle = timer.C
		}
		start := time.Now()
		select {
		case err := <-done:
			if timer != nil {
				timer.Stop()
			}
			return err, true
		case <-change:
		case <-idle:
		}
		if timer != nil {
			timer.Stop()
			budget -= time.Since(start)
		}
		n, change = w.reporting.watch()
	}
}

// closeLate runs as the worker exits: when Close gave up waiting for a Write
// that ignored its cancelled context, the sink is closed once that Write
// returns, so that it can still release what it holds. What it reports
// undelivered until then goes to the hook, the dead letter (which takes
// appends after Close) and Stats, as always, but Close's error has been
// returned (ErrStillRunning said so).
func (w *worker) closeLate() {
	w.mu.Lock()
	late := w.state == overran
	w.state = exited
	w.progressLocked()
	w.mu.Unlock()
	if !late {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	if err := w.call("Close", func() error { return w.sink.Close(ctx) }); err != nil {
		w.log.sinkError(w.name, "close", 0, err)
	}
}

// UndeliveredError, in Close's error, reports a sink's events that were not
// delivered, each once: those still queued at Close's deadline, the batch of
// a Write that overran it, and those whose delivery failed during the
// tracker's life, in a Write or as reported by the sink. Events a sink still
// running at the deadline reports after Close returned are not in it (see
// ErrStillRunning). errors.Is finds the causes through it: the context's
// error when the deadline cut delivery short, and the last delivery error.
type UndeliveredError struct {
	Sink           string // the sink's name
	Count          int    // events not delivered
	DeadLettered   int    // how many of them were written to the dead-letter file
	DeadLetterPath string // the dead-letter file, if one is configured
	DeadLetterErr  error  // the last error writing the dead-letter file, if any
	Err            error  // why
}

// Error says how many of the sink's events were not delivered, how many
// went to the dead-letter file, and why.
func (e *UndeliveredError) Error() string {
	s := fmt.Sprintf("sink %q: %d %s not delivered", e.Sink, e.Count, plural.Of(e.Count, "event", "events"))
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
