package tracker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/keycache"
	"github.com/multitrack/multitrack/internal/secret"
)

// ErrClosed is returned by Flush on a closed tracker.
var ErrClosed = errors.New("tracker: closed")

// Tracker captures events and fans them out to its sinks. It is safe for
// concurrent use. A nil *Tracker, and the zero Tracker, are valid and
// deliver nothing. Create one with New and Close it when done.
type Tracker struct {
	sampler      Sampler
	log          zerolog.Logger
	props        map[string]any
	propsSize    int
	secrets      *secret.Rule // nil: the default
	fallbackID   string
	maxEventSize int
	workers      []*worker
	orgGroups    keycache.Map[map[string]string]
	deadLetter   *deadLetter
	logLimit     logLimiter

	counters trackerCounters

	closed    atomic.Bool
	closing   atomic.Bool // the first Close has begun
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
		log:          c.logger,
		secrets:      secret.NewRule(c.redact),
		fallbackID:   c.fallbackID,
		maxEventSize: c.maxEventSize,
		closeDone:    make(chan struct{}),
	}
	t.logLimit.off = c.logger.GetLevel() == zerolog.Disabled
	errs := c.validate()
	if c.deadLetter != "" {
		// Find a dead-letter path that cannot work now, not when the
		// events that need it are failing.
		errs = errors.Join(errs, CheckDeadLetter(c.deadLetter))
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
	if c.deadLetter != "" {
		t.deadLetter = &deadLetter{path: c.deadLetter}
	}
	for _, spec := range c.sinks {
		w := newWorker(t, spec)
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

// undelivered is the UndeliveredFunc given to a sink.
func (w *worker) undelivered(events []Event, reason error) {
	w.counters.undelivered.Add(uint64(len(events)))
	w.noteFailure(reason)
	w.t.logSinkError(w.name, "deliver", len(events), reason)
	w.t.spill(w, events)
}

// Capture records e. It never blocks (but under a sink's Block overflow
// policy, for at most its block timeout in all), never panics and never
// fails: what it cannot keep it counts in Stats.
//
// ctx is used for enrichment only (the organization, see WithOrganization):
// delivery goes on after ctx is cancelled, so that a finished request's
// events are still sent. e's maps must not be modified after the call.
func (t *Tracker) Capture(ctx context.Context, e Event) {
	if t == nil {
		return
	}
	if t.closed.Load() {
		t.counters.afterClose.Add(1)
		return
	}
	defer t.recoverCapture()
	if e.Name == "" {
		t.reject(reasonEmptyName, &e, nil)
		return
	}

	// Identity: the organization from the context fills the group; the
	// distinct id falls back to the organization, then to "standalone".
	org := e.Groups[GroupOrganization]
	if org == "" && ctx != nil {
		if o, _ := ctx.Value(orgKey{}).(string); o != "" {
			org = o
			e.Groups = t.withOrg(e.Groups, o)
		}
	}
	if e.DistinctID == "" {
		e.DistinctID = org
		if org == "" {
			e.DistinctID = t.fallback()
		}
	}
	if e.UUID == "" {
		e.rnd, e.hasRnd = newUUIDRandom(), true
	}

	rate := 1.0
	if t.sampler != nil {
		// A panic here is recovered by recoverCapture and counted.
		keep, r := t.sampler.Sample(e)
		if !keep {
			t.counters.sampledOut.Add(1)
			return
		}
		rate = t.checkRate(r)
	}

	rule := t.secrets
	if rule == nil {
		rule = secret.Default()
	}
	size, secrets, verr := checkEvent(&e, rule)
	if verr != nil {
		t.reject(reasonUnencodable, &e, verr)
		return
	}
	if size+t.propsSize > t.maxSize() {
		t.reject(reasonTooLarge, &e, fmt.Errorf("about %d bytes, limit %d", size+t.propsSize, t.maxSize()))
		return
	}
	if secrets > 0 || rate < 1 || len(t.props) > 0 {
		t.resolveProperties(&e, rule, secrets, rate)
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now()
	}
	if e.UUID == "" {
		e.UUID = formatUUIDv7(e.Timestamp, uint16(rand.Uint32()), e.rnd)
	}
	t.counters.kept.Add(1)

	for i, w := range t.workers {
		if w.cfg.sampler == nil {
			w.enqueue(&e)
			continue
		}
		keep, r := t.sampleSink(w, sinkKeyed(e, i))
		if !keep {
			w.counters.sampledOut.Add(1)
			continue
		}
		if r >= 1 {
			w.enqueue(&e)
			continue
		}
		se := e
		se.Properties = withProperty(e.Properties, PropSampleRate, sampleRate(e.Properties)*r)
		w.enqueue(&se)
	}
}

// recoverCapture keeps a panic in Capture (a sampler's, most likely) from
// reaching the caller; the event is dropped and counted.
func (t *Tracker) recoverCapture() {
	if r := recover(); r != nil {
		t.counters.panics.Add(1)
		t.logLimit.do(limitPanic, func() {
			t.log.Error().Str("panic", describePanic(r)).Msg("multitrack: recovered a panic in Capture; event dropped")
		})
	}
}

// sampleSink calls w's sampler, recovering a panic (the event is then not
// sent to that sink, but still to the others; the panic is counted in the
// sink's Panics).
func (t *Tracker) sampleSink(w *worker, e Event) (keep bool, rate float64) {
	defer func() {
		if r := recover(); r != nil {
			w.counters.panics.Add(1)
			t.logLimit.do(limitPanic, func() {
				t.log.Error().Str("sink", w.name).Str("panic", describePanic(r)).Msg("multitrack: sink sampler panicked; event not sent to that sink")
			})
			keep = false
		}
	}()
	keep, rate = w.cfg.sampler.Sample(e)
	return keep, t.checkRate(rate)
}

// checkRate returns a sampler's rate, or 1 for a rate outside (0, 1]
// (NaN included), a sampler's bug, which is logged.
func (t *Tracker) checkRate(r float64) float64 {
	if v := validRate(r); v == r {
		return v
	}
	t.logLimit.do(limitBadRate, func() {
		t.log.Error().Float64("rate", r).Msg("multitrack: a sampler kept an event with a rate outside (0, 1]; taken as 1")
	})
	return 1
}

// validRate maps a rate outside (0, 1], NaN included, to 1.
func validRate(r float64) float64 {
	if r > 0 && r <= 1 {
		return r
	}
	return 1
}

func (t *Tracker) maxSize() int {
	if t.maxEventSize > 0 {
		return t.maxEventSize
	}
	return DefaultMaxEventSize
}

func (t *Tracker) fallback() string {
	if t.fallbackID != "" {
		return t.fallbackID
	}
	return DefaultFallbackDistinctID
}

// withOrg returns groups with the organization set, copying rather than
// modifying the caller's map. Events without groups share one read-only map
// per organization, so the common case allocates nothing.
func (t *Tracker) withOrg(groups map[string]string, org string) map[string]string {
	if len(groups) == 0 {
		if g, ok := t.orgGroups.Get(org); ok {
			return g
		}
		g := map[string]string{GroupOrganization: org}
		t.orgGroups.Put(org, g)
		return g
	}
	g := make(map[string]string, len(groups)+1)
	for k, v := range groups {
		g[k] = v
	}
	g[GroupOrganization] = org
	return g
}

// resolveProperties replaces e's properties with a copy that has no secret
// keys (nested maps included) and has the default properties and the sample
// rate added.
func (t *Tracker) resolveProperties(e *Event, rule *secret.Rule, secrets int, rate float64) {
	t.counters.redacted.Add(uint64(secrets))
	p := make(map[string]any, len(t.props)+len(e.Properties)+1)
	for k, v := range t.props {
		p[k] = v
	}
	for k, v := range e.Properties {
		if secrets == 0 {
			p[k] = v
		} else if !rule.Match(k) {
			p[k], _ = redactValue(v, rule)
		}
	}
	if rate < 1 {
		p[PropSampleRate] = rate * sampleRate(e.Properties)
	}
	e.Properties = p
}

// sampleRate returns the rate an event was already sampled at (say, before
// it was written to a dead-letter file and replayed), or 1.
func sampleRate(props map[string]any) float64 {
	var r float64
	switch x := props[PropSampleRate].(type) {
	case float64:
		r = x
	case float32:
		r = float64(x)
	case int64:
		r = float64(x)
	case int:
		r = float64(x)
	}
	return validRate(r)
}

// sinkKeyed returns e with its per-event random key re-mixed for the i-th
// sink, so that a sink's sampler decides independently of the tracker's
// and the rates multiply exactly.
func sinkKeyed(e Event, i int) Event {
	e.rnd, e.hasRnd = mixRandom(e.UUIDRandom()^(uint64(i+1)*0x9e3779b97f4a7c15)), true
	return e
}

// withProperty returns a copy of props with key set to v.
func withProperty(props map[string]any, key string, v any) map[string]any {
	p := make(map[string]any, len(props)+1)
	for k, x := range props {
		p[k] = x
	}
	p[key] = v
	return p
}

func (t *Tracker) reject(reason string, e *Event, err error) {
	var kind limitKind
	switch reason {
	case reasonEmptyName:
		t.counters.emptyName.Add(1)
		kind = limitEmptyName
	case reasonUnencodable:
		t.counters.unencodable.Add(1)
		kind = limitUnencodable
	default:
		t.counters.tooLarge.Add(1)
		kind = limitTooLarge
	}
	t.logLimit.do(kind, func() {
		ev := t.log.Warn().Str("reason", reason).Str("event", e.Name)
		if err != nil {
			ev = ev.Err(err)
		}
		ev.Msg("multitrack: event rejected")
	})
}

// Flush waits until every event captured before the call has been handed to
// its sinks' Write (or counted as dropped), and sinks that buffer
// (Flusher) have flushed. It returns early with an error naming the sinks
// that lag when ctx ends. The tracker stays usable.
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

// Close stops accepting events, delivers everything queued unless ctx ends
// first, and closes every sink, all in parallel under ctx's deadline. Events
// it could not deliver are counted, written to the dead-letter file when one
// is configured, and named in the error (an *UndeliveredError per sink),
// together with the events whose delivery failed earlier in the tracker's
// life: a nil error means that no event handed to a sink failed or was left
// undelivered. (Events dropped because a queue was full are counted in
// Stats, as they happen, not in Close's error.) Appending the undelivered
// events to the dead-letter file is not cut short by the deadline: Close
// overruns it by the time that local append takes, rather than lose them. Errors from several sinks are
// joined; errors.Is finds each. Close is idempotent: later calls wait for
// the first (until their own ctx ends) and return its result.
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
	if t.closing.CompareAndSwap(false, true) {
		t.closed.Store(true)
		var g multierror.Group
		for _, w := range t.workers {
			g.Go(func() error { return w.shutdown(ctx) })
		}
		err := g.Wait().ErrorOrNil()
		if dlErr := t.deadLetter.close(); dlErr != nil {
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
