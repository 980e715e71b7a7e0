package tracker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/go-multierror"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/deadletter"
	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/secret"
)

// ErrClosed is returned by Flush on a closed tracker, and matched by the
// reason the undelivered hook gets for events refused, or left behind, by
// Close.
var ErrClosed = errors.New("tracker: closed")

// ErrStillRunning is matched by Close's error when a sink was still running
// (in Write, Flush or Close) at Close's deadline. Close returned without it;
// the sink is closed when it returns, and what it reports undelivered until
// then goes to the undelivered hook, the dead-letter file and Stats, but is
// not in the error Close returned.
var ErrStillRunning = errors.New("still running")

// ErrQueueFull is matched by the reason the undelivered hook gets for an
// event a sink's full queue dropped.
var ErrQueueFull = errors.New("queue full")

// Tracker captures events and fans them out to its sinks. It is safe for
// concurrent use. A nil *Tracker, and the zero Tracker, are valid and
// deliver nothing. Create one with New and Close it when done.
type Tracker struct {
	sampler      Sampler
	inputs       SampleInput // what sampler reads (InputsOf)
	log          *diag
	props        map[string]any
	propsSize    int
	secrets      *secret.Rule // nil: the default
	fallbackID   string
	maxEventSize int
	workers      []*worker
	lost         *undelivered
	plan         PlanChecker
	planMode     PlanMode
	exempt       func(key string) bool // planExempt, bound once

	counters   trackerCounters
	planCounts planCounters

	closed    atomic.Bool // Close has begun
	closeDone chan struct{}
	closeErr  error
}

// New creates a Tracker with the given options and starts one worker
// goroutine per sink. It returns an error naming every invalid option.
func New(opts ...Option) (*Tracker, error) {
	c := config{logger: zerolog.Nop()}
	for _, o := range opts {
		o(&c)
	}
	if !c.redactSet {
		c.redact = DefaultRedactedKeys()
	}
	t := &Tracker{
		sampler:      c.sampler,
		inputs:       InputsOf(c.sampler),
		log:          newDiag(c.logger),
		secrets:      secret.NewRule(c.redact),
		fallbackID:   c.fallbackID,
		maxEventSize: c.maxEventSize,
		closeDone:    make(chan struct{}),
	}
	errs := c.validate()
	if c.deadLetter != "" {
		// Find a dead-letter path that cannot work now, not when the
		// events that need it are failing.
		errs = errors.Join(errs, deadletter.Check(c.deadLetter))
	}
	for k, v := range c.properties {
		if t.secrets.Match(k) {
			errs = errors.Join(errs, fmt.Errorf("default property %q: the key looks secret and would be redacted", k))
			continue
		}
		var w json.Walker
		n, err := w.Measure(v, false)
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("default property %q: %w", k, err))
			continue
		}
		t.propsSize += len(k) + 4 + n
	}
	if errs != nil {
		return nil, fmt.Errorf("tracker: %w", errs)
	}
	if len(c.properties) > 0 {
		t.props = c.properties
	}
	if c.plan != nil {
		t.plan, t.planMode, t.exempt = c.plan, c.planMode, t.planExempt
	}
	t.lost = &undelivered{hook: c.hook, log: t.log}
	if c.deadLetter != "" {
		t.lost.file = deadletter.New(c.deadLetter)
	}
	for _, spec := range c.sinks {
		w := newWorker(spec, t.lost, t.log)
		if r, ok := spec.sink.(UndeliveredReporter); ok {
			r.SetUndelivered(w.undelivered)
		}
		t.workers = append(t.workers, w)
	}
	for _, w := range t.workers {
		go w.run()
	}
	return t, nil
}

// Flush is a barrier: it waits until every event captured before the call
// has been written (or reported undelivered) and sinks that buffer
// (Flusher) have flushed, or until ctx ends, naming the sinks that lag.
func (t *Tracker) Flush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if t.closed.Load() {
		return ErrClosed
	}
	var g multierror.Group
	for _, w := range t.workers {
		g.Go(func() error {
			if err := w.flush(ctx); err != nil {
				return fmt.Errorf("sink %q: flush: %w", w.name, err)
			}
			return nil
		})
	}
	return g.Wait().ErrorOrNil()
}

// Close stops accepting events, delivers what is queued and closes every
// sink, in parallel under ctx's deadline. It returns nil when every event a
// sink accepted was delivered, else an *UndeliveredError per sink, joined.
// It returns by ctx's deadline, or, when a sink is writing events it gives up
// on to the dead letter then, once those writes are done. A sink still
// running after that is named (ErrStillRunning): what it reports undelivered
// after Close returns still goes to the hook, the dead letter and Stats.
func (t *Tracker) Close(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if t.closeDone == nil { // the zero Tracker
		t.closed.Store(true)
		return nil
	}
	if t.closed.CompareAndSwap(false, true) {
		// Each worker drains and closes its sink under ctx (shutdown.go);
		// what one could not deliver it reports, and dead-letters, before
		// it returns. That local append is not cut short by the deadline:
		// Close overruns it by that much rather than lose the events. A
		// sink left running reports later into the same dead letter, which
		// takes appends after lost.close (opening the file for each).
		var g multierror.Group
		for _, w := range t.workers {
			g.Go(func() error { return w.shutdown(ctx) })
		}
		err := g.Wait().ErrorOrNil()
		if dlErr := t.lost.close(); dlErr != nil {
			err = multierror.Append(err, dlErr)
		}
		t.closeErr = err // returned, not logged: the caller has it
		close(t.closeDone)
		return t.closeErr
	}
	select {
	case <-t.closeDone:
		return t.closeErr
	case <-ctx.Done():
		return fmt.Errorf("tracker: waiting for another Close: %w", ctx.Err())
	}
}
