package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/internal/deadletter"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

// TrackerFunc builds the tracker a relay delivers through, with the
// relay's options first and the caller's own after them:
// registry.Env.Tracker, or a function around tracker.New.
type TrackerFunc func(opts ...tracker.Option) (*tracker.Tracker, error)

// Relay moves events from a JetStream stream into a tracker's sinks; see
// the package comment. Create one with New, then call Run once.
type Relay struct {
	js      jetstream.JetStream
	stream  natssink.Config
	cfg     config
	tracker *tracker.Tracker
	dead    *deadletter.File // nil without a dead letter

	mu       sync.Mutex
	inflight map[string][]*item // the batch being delivered, by UUID

	running   atomic.Bool
	closeOnce sync.Once
	closeErr  error
	healthErr atomic.Pointer[error] // the last fetch's error, nil when it worked

	c counters
}

// New returns a relay reading the stream that stream names, on js, and
// delivering through the tracker that newTracker builds (the relay passes
// it the options it needs: its undelivered hook, and no dead letter of the
// tracker's own, since the relay writes its own). The tracker is built
// here, so that an invalid configuration fails before Run.
func New(js jetstream.JetStream, stream natssink.Config, newTracker TrackerFunc, opts ...Option) (*Relay, error) {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if js == nil || newTracker == nil {
		return nil, errors.New("relay: a JetStream context and a tracker function are required")
	}
	r := &Relay{js: js, stream: stream, cfg: c}
	if c.deadLetter != "" {
		if err := deadletter.Check(c.deadLetter); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		r.dead = deadletter.New(c.deadLetter)
	}
	t, err := newTracker(r.trackerOptions()...)
	if err != nil {
		r.closeDeadLetter()
		return nil, fmt.Errorf("relay: %w", err)
	}
	r.tracker = t
	return r, nil
}

// Tracker returns the tracker the relay delivers through, for its metrics.
func (r *Relay) Tracker() *tracker.Tracker { return r.tracker }

// Healthy returns nil while the relay is connected and its last fetch
// worked, else why not.
func (r *Relay) Healthy() error {
	if st := r.js.Conn().Status(); st != natsgo.CONNECTED {
		return fmt.Errorf("relay: not connected to NATS (%s)", st)
	}
	if p := r.healthErr.Load(); p != nil && *p != nil {
		return *p
	}
	return nil
}

// Run fetches and delivers until ctx ends, then stops fetching, delivers
// and acknowledges the batch in flight, and closes the tracker, all within
// the shutdown timeout. It returns nil after a shutdown that delivered or
// settled everything, and otherwise the error that stopped it.
func (r *Relay) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("relay: Run called twice")
	}
	// The delivery of the batch in flight outlives ctx by the shutdown
	// timeout at most.
	hard, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	var timer atomic.Pointer[time.Timer]
	stopWatch := context.AfterFunc(ctx, func() { timer.Store(time.AfterFunc(r.cfg.shutdownTimeout, hardCancel)) })
	defer func() {
		stopWatch()
		if t := timer.Load(); t != nil {
			t.Stop()
		}
	}()

	stopProgress := r.startProgress()
	err := r.loop(ctx, hard)
	// Acks are sent without waiting for the server: make sure the last
	// batch's have reached it before saying it is settled.
	if ferr := r.js.Conn().FlushTimeout(r.cfg.shutdownTimeout); ferr != nil && err == nil && !r.js.Conn().IsClosed() {
		r.cfg.log.Warn().Err(ferr).Msg("multitrack: relay: the last acknowledgements may not have reached the server; those messages will be redelivered")
	}
	closeCtx := hard
	if ctx.Err() == nil { // stopped by an error: Close still gets its time
		var cancel context.CancelFunc
		closeCtx, cancel = context.WithTimeout(hard, r.cfg.shutdownTimeout)
		defer cancel()
	}
	err = errors.Join(err, r.close(closeCtx))
	stopProgress()
	return err
}

// Close releases what New built (the tracker, the dead letter) when Run was
// never called; Run does it itself. It is idempotent.
func (r *Relay) Close(ctx context.Context) error { return r.close(ctx) }

func (r *Relay) close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.closeErr = settled(r.tracker.Close(ctx))
		if err := r.closeDeadLetter(); err != nil {
			r.closeErr = errors.Join(r.closeErr, err)
		}
	})
	return r.closeErr
}

// trackerOptions are the options the relay's tracker needs: the hook
// through which the relay learns, event by event, what a sink did not
// deliver; and no dead letter of the tracker's own (a failed event is
// redelivered: the relay dead-letters only its last failure).
func (r *Relay) trackerOptions() []tracker.Option {
	return []tracker.Option{tracker.WithUndeliveredHook(r.undelivered), tracker.WithDeadLetter("")}
}

// settled returns the tracker's Close error without its reports of events
// that failed earlier: the relay nak'ed or dead-lettered each of those
// itself. (Every batch is flushed before Close, so none is left queued.)
func settled(err error) error {
	if err == nil {
		return nil
	}
	var parts []error
	switch x := err.(type) {
	case *multierror.Error:
		parts = x.WrappedErrors()
	case interface{ Unwrap() []error }:
		parts = x.Unwrap()
	case *tracker.UndeliveredError:
		return nil
	default:
		return err
	}
	var keep []error
	for _, p := range parts {
		if p = settled(p); p != nil {
			keep = append(keep, p)
		}
	}
	return errors.Join(keep...)
}

func (r *Relay) closeDeadLetter() error {
	if r.dead == nil {
		return nil
	}
	if err := r.dead.Close(); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// loop fetches and delivers batches until ctx ends.
func (r *Relay) loop(ctx, hard context.Context) error {
	cons, err := r.consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing fetched, nothing to settle
		}
		return err
	}
	for ctx.Err() == nil {
		// Not cancelled by ctx: a fetch cut short would leave messages the
		// server sent unacknowledged until the ack wait. It ends within the
		// fetch wait.
		batch, err := cons.Fetch(r.cfg.batchSize, jetstream.FetchMaxWait(r.cfg.fetchWait))
		if err == nil {
			var msgs []jetstream.Msg
			for m := range batch.Messages() {
				msgs = append(msgs, m)
			}
			if len(msgs) > 0 {
				r.deliver(hard, msgs)
			} else {
				r.c.lag.Store(0)
			}
			err = batch.Error()
		}
		r.setHealth(err)
		if err == nil {
			continue
		}
		if errors.Is(err, natsgo.ErrConnectionClosed) || errors.Is(err, jetstream.ErrConnectionClosed) {
			return fmt.Errorf("relay: %w", err)
		}
		r.c.fetchErrors.Add(1)
		r.cfg.log.Warn().Err(err).Msg("multitrack: relay: fetch failed; trying again")
		sleep(ctx, r.cfg.fetchWait)
	}
	return nil
}

func (r *Relay) setHealth(err error) {
	if err == nil {
		r.healthErr.Store(nil)
		return
	}
	e := fmt.Errorf("relay: last fetch: %w", err)
	r.healthErr.Store(&e)
}

// consumer creates or updates the durable consumer, and the stream when it
// is missing.
func (r *Relay) consumer(ctx context.Context) (jetstream.Consumer, error) {
	if _, err := r.stream.EnsureStream(ctx, r.js); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cons, err := r.js.CreateOrUpdateConsumer(cctx, r.stream.StreamName(), jetstream.ConsumerConfig{
		Durable:       r.cfg.consumer,
		Description:   "multitrack relay: delivers events into the relay's sinks",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.cfg.ackWait,
		MaxDeliver:    -1, // the relay counts deliveries itself, to dead-letter the last
		FilterSubject: r.stream.SubjectPrefix() + ".>",
		MaxAckPending: max(1000, 4*r.cfg.batchSize),
	})
	if err != nil {
		return nil, fmt.Errorf("relay: consumer %s on stream %s: %w", r.cfg.consumer, r.stream.StreamName(), err)
	}
	return cons, nil
}

// every calls f every d on a goroutine of its own, until the returned
// function is called; that function returns once the goroutine has ended.
func every(d time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
