package posthog

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/tracker"
)

// The sink's delivery: posthog-go sends everything it buffers, at once, when
// its client is closed. So Flush hands the current client over (closes it in
// the background) while a fresh one takes new events, and a retry is a
// client of its own, closed as soon as it has its messages. Every client has
// one attempt per batch (MaxRetries 0): the sink decides on retries.

// generation is the posthog-go client that takes Writes until a Flush hands
// it over.
type generation struct {
	client ph.Client
	enq    enqueuer    // client, or a test's wrapper around it
	used   atomic.Bool // something was handed to it
}

// send hands m to posthog-go; a panic while it encodes m (a property value's
// MarshalJSON) is returned as errEncodePanic.
func (g *generation) send(m ph.Message) error {
	g.used.Store(true)
	return enqueueSafely(g.enq, m)
}

// errEncodePanic is the cause given for a message whose encoding panicked
// inside posthog-go's Enqueue (a property value's MarshalJSON).
var errEncodePanic = errors.New("encoding panicked")

// enqueueSafely is e.Enqueue(m), with a panic while posthog-go encodes m
// returned as errEncodePanic: it fails m only. posthog-go encodes before it
// queues, so a message that panicked is not queued and not reported on.
func enqueueSafely(e enqueuer, m ph.Message) (err error) {
	defer func() {
		if recover() != nil {
			err = errEncodePanic
		}
	}()
	return e.Enqueue(m)
}

// newClient returns a posthog-go client as the sink configures them, whose
// queue holds at least queue messages.
func (s *Sink) newClient(queue int) (ph.Client, error) {
	c := s.cfg
	compression := ph.CompressionNone
	if c.gzip {
		compression = ph.CompressionGzip
	}
	cfg := ph.Config{
		Endpoint:            c.trimmedEndpoint(),
		Interval:            c.interval,
		BatchSize:           c.batchSize,
		MaxQueueSize:        max(queue, ph.DefaultMaxQueueSize),
		MaxRetries:          ph.Ptr(0),
		RetryAfter:          func(int) time.Duration { return 0 },
		Compression:         compression,
		Transport:           s.rt,
		Logger:              s.log,
		Callback:            callback{s},
		HistoricalMigration: c.historical,
	}
	if c.personProfiles == PersonProfilesNever {
		// A map per client: posthog-go adds its own defaults to it.
		cfg.DefaultEventProperties = ph.Properties{propProcessPersonProfile: false}
	}
	return ph.NewWithConfig(s.key, cfg)
}

// propProcessPersonProfile is PostHog's per-event switch for person profiles.
const propProcessPersonProfile = "$process_person_profile"

func (s *Sink) newGeneration() (*generation, error) {
	c, err := s.newClient(0)
	if err != nil {
		return nil, err
	}
	g := &generation{client: c, enq: c}
	if s.wrap != nil {
		g.enq = s.wrap(c)
	}
	return g, nil
}

// handOver closes the current client, which sends everything it holds at
// once, and puts a fresh one in its place, or none (next false: Close). It
// does nothing when the current client was given nothing.
func (s *Sink) handOver(next bool) {
	s.mu.Lock()
	old := s.gen
	if old == nil || (next && !old.used.Load()) {
		s.mu.Unlock()
		return
	}
	s.gen = nil
	if next {
		g, err := s.newGeneration()
		if err != nil { // its configuration was accepted by New: not in practice
			s.log.Errorf("posthog: cannot create a client: %v", err)
			s.gen = old
			s.mu.Unlock()
			return
		}
		s.gen = g
	}
	s.mu.Unlock()
	s.stats.handovers.Add(1)
	s.release(old.client)
}

// release closes c in the background: posthog-go sends its buffer, then
// waits for its requests, until Close lets it go (letGo). Close waits for
// every client released before it stops waiting.
func (s *Sink) release(c ph.Client) {
	s.relMu.Lock()
	defer s.relMu.Unlock()
	if s.unwaited {
		// Close has stopped waiting (and letGo has ended): c stops at once.
		go c.CloseWithContext(s.letGo)
		return
	}
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		c.CloseWithContext(s.letGo)
	}()
}

// enqueueAll hands events to the current client, tracking each under the
// UUID sent, and returns those it refused; ErrClosed when Close has begun.
func (s *Sink) enqueueAll(ctx context.Context, sent []string, kept []pending, events []tracker.Event) (refusals, error) {
	var refused refusals
	s.mu.RLock()
	defer func() { s.mu.RUnlock() }()
	if s.gen == nil {
		return refused, ErrClosed
	}
	s.ledger.add(sent, kept)
	done := ctx.Done()
	rotated := false
	for i := range events {
		select {
		case <-done: // the rest is not handed over
			for _, u := range sent[i:] {
				refused.add(u, ctx.Err())
			}
			return refused, nil
		default:
		}
		e := &events[i]
		if s.groups != nil {
			s.identifyGroups(s.gen, e)
		}
		m := capture(e, kept[i].ev.Properties, sent[i])
		err := s.gen.send(m)
		if errors.Is(err, ph.ErrQueueFull) && !rotated {
			// posthog-go's queue is full: hand it over, so that it is sent
			// now, and go on with a fresh client (once a Write).
			rotated = true
			s.mu.RUnlock()
			s.handOver(true)
			s.mu.RLock()
			err = ErrClosed
			if s.gen != nil {
				err = s.gen.send(m)
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, errEncodePanic) {
			err = panickingProperty(kept[i].ev.Properties)
		}
		refused.add(sent[i], err)
		if s.gen == nil { // Close began while the queue was full
			for _, u := range sent[i+1:] {
				refused.add(u, ErrClosed)
			}
			return refused, nil
		}
	}
	return refused, nil
}

// resend sends again, at once, the messages tracked under uuids: the
// retrier's messages that are due.
func (s *Sink) resend(uuids []string) {
	msgs := make([]ph.Message, 0, len(uuids))
	sent := make([]string, 0, len(uuids))
	for _, u := range uuids {
		if p, ok := s.ledger.peek(u); ok {
			msgs = append(msgs, p.message(u))
			sent = append(sent, u)
		}
	}
	if len(msgs) == 0 {
		return
	}
	s.stats.retries.Add(uint64(len(msgs)))
	c, err := s.newClient(len(msgs))
	if err != nil { // its configuration was accepted by New: not in practice
		for _, u := range sent {
			s.retry.failed(u, err)
		}
		return
	}
	for i, m := range msgs {
		if err := enqueueSafely(c, m); err != nil {
			s.retry.failed(sent[i], err)
		}
	}
	s.release(c)
}

// Flush implements tracker.Flusher: every event written before the call is
// sent at once, and Flush returns when each is delivered or given up on
// (reported undelivered): one round trip when PostHog answers. A failed
// attempt is retried as always (backoff, Retry-After, WithMaxRetries); if
// ctx ends first, Flush returns an error counting the messages still under
// way and wrapping ctx's error.
func (s *Sink) Flush(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.closing.Load() {
		return ErrClosed
	}
	s.handOver(true)
	return s.ledger.wait(ctx)
}
