package posthog

import (
	"context"
	"errors"
	"fmt"

	ph "github.com/posthog/posthog-go"

	ijson "github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/tracker"
)

// callback receives posthog-go's report on each message: delivered, or an
// attempt that failed (the retrier decides what next).
type callback struct{ s *Sink }

// Success implements posthog.Callback.
func (c callback) Success(m ph.APIMessage) { c.s.delivered(messageUUID(m)) }

// Failure implements posthog.Callback.
func (c callback) Failure(m ph.APIMessage, err error) {
	if err == nil {
		err = errors.New("unknown failure")
	}
	c.s.retry.failed(messageUUID(m), err)
}

func messageUUID(m ph.APIMessage) string {
	switch m := m.(type) {
	case ph.CaptureInApi:
		return m.Uuid
	case ph.GroupIdentifyInApi:
		return m.Uuid
	}
	return ""
}

// delivered settles the message PostHog accepted.
func (s *Sink) delivered(u string) {
	s.fence.RLock()
	defer s.fence.RUnlock()
	if s.closed.Load() {
		return // Close has reported everything still tracked
	}
	if p, ok := s.ledger.take(u, &s.stats.sent); ok {
		s.ledger.settle(p.seq)
	}
}

// giveUp reports the messages the retrier gives up on: events to the
// UndeliveredFunc (or, while Close runs, to Close), in one call per reason;
// a $groupidentify is forgotten, so that the group's next event sends it
// again.
func (s *Sink) giveUp(fails []failure) {
	s.fence.RLock()
	defer s.fence.RUnlock()
	if s.closed.Load() {
		return
	}
	var seqs []uint64
	defer func() {
		for _, seq := range seqs {
			s.ledger.settle(seq)
		}
	}()
	var events []tracker.Event
	var reasons []error
	for _, f := range fails {
		p, ok := s.ledger.take(f.uuid, &s.stats.failed)
		if !ok {
			continue // a duplicate UUID's copy, settled already
		}
		seqs = append(seqs, p.seq)
		if p.identify != nil {
			s.stats.groupIdentifyFailures.Add(1)
			s.groups.forget(p.identify.Type, p.identify.Key)
			continue
		}
		events = append(events, p.ev)
		reasons = append(reasons, f.reason)
	}
	if len(events) == 0 {
		return
	}
	if s.closing.Load() {
		// Close reports them, with the others that fail while it runs, in
		// one call per reason: an UndeliveredFunc call is a dead-letter
		// write and sync, and many would outlast Close's deadline.
		s.atClose.Lock()
		s.atClose.events = append(s.atClose.events, events...)
		s.atClose.reasons = append(s.atClose.reasons, reasons...)
		s.atClose.Unlock()
		return
	}
	s.reportByReason(events, reasons)
}

// reportByReason reports events[i], given up on for reasons[i], in one
// UndeliveredFunc call per distinct reason (by its text), in order of first
// appearance; without an UndeliveredFunc it logs them.
func (s *Sink) reportByReason(events []tracker.Event, reasons []error) {
	var order []string
	groups := make(map[string][]tracker.Event)
	first := make(map[string]error)
	for i, ev := range events {
		k := reasons[i].Error()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			first[k] = reasons[i]
		}
		groups[k] = append(groups[k], ev)
	}
	f := s.undelivered()
	for _, k := range order {
		if f != nil {
			f(groups[k], first[k])
		} else {
			s.log.Errorf("posthog: %d events not delivered and no UndeliveredFunc set: %v", len(groups[k]), first[k])
		}
	}
}

// refusals collects the events posthog-go refused in one Write.
type refusals struct {
	uuids []string
	errs  []error
}

func (r *refusals) add(u string, err error) {
	r.uuids = append(r.uuids, u)
	r.errs = append(r.errs, err)
}

// refuse untracks refused events and reports them, grouped by cause: to the
// UndeliveredFunc, or without one in the error returned when the whole batch
// of n events was refused, else in the log.
func (s *Sink) refuse(r *refusals, n int) error {
	type group struct {
		err    error
		events []tracker.Event
	}
	var groups []group
	var seqs []uint64
	defer func() {
		for _, seq := range seqs {
			s.ledger.settle(seq)
		}
	}()
	for i, u := range r.uuids {
		p, ok := s.ledger.take(u, &s.stats.refused)
		if !ok { // Close, racing this Write, has reported it
			continue
		}
		seqs = append(seqs, p.seq)
		if errors.Is(r.errs[i], ph.ErrQueueFull) {
			s.stats.queueFull.Add(1)
		}
		if n := len(groups); n > 0 && groups[n-1].err == r.errs[i] {
			groups[n-1].events = append(groups[n-1].events, p.ev)
		} else {
			groups = append(groups, group{r.errs[i], []tracker.Event{p.ev}})
		}
	}
	f := s.undelivered()
	var errs []error
	for _, g := range groups {
		reason := fmt.Errorf("posthog: refused by posthog-go: %w", g.err)
		switch {
		case errors.Is(g.err, ErrClosed):
			reason = g.err
		case errors.Is(g.err, context.Canceled) || errors.Is(g.err, context.DeadlineExceeded):
			reason = fmt.Errorf("posthog: not handed to posthog-go before Write's context ended: %w", g.err)
		case errors.Is(g.err, errEncodePanic):
			reason = fmt.Errorf("posthog: cannot encode the event: %w", g.err)
		}
		if f != nil {
			f(g.events, reason)
			continue
		}
		errs = append(errs, fmt.Errorf("%d events not delivered: %w", len(g.events), reason))
	}
	err := errors.Join(errs...)
	if err != nil && len(r.uuids) < n {
		// Part of the batch was handed over: an error would say none was.
		s.log.Errorf("posthog: %d events refused and no UndeliveredFunc set: %v", len(r.uuids), err)
		return nil
	}
	return err
}

// panickingProperty is the reason for an event whose encoding panicked:
// errEncodePanic, with the property internal/json cannot encode (its key
// path and type, never its value) when it finds one.
func panickingProperty(props map[string]any) error {
	if _, err := ijson.AppendObject(nil, props); err != nil {
		return fmt.Errorf("%w: %w", errEncodePanic, err)
	}
	return errEncodePanic
}

var _ ph.Callback = callback{}
