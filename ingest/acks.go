package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/multitrack/multitrack/tracker"
)

// Acks matches a tracker's reports of undelivered events to the requests
// that carried them, so that a request is answered 200 only when its events
// were delivered (AckDelivered). Give its Undelivered method to the tracker
// (tracker.WithUndeliveredHook) and the Acks to New (WithDeliveredAck). It
// is safe for concurrent use.
type Acks struct {
	mu      sync.Mutex
	pending map[string]ackWaiters // event UUID → the requests waiting on it
}

// ackWaiters are the requests waiting on one UUID: nearly always one (an SDK
// retrying while its first attempt is still in flight makes two).
type ackWaiters struct {
	first *ackRequest
	more  []*ackRequest
}

// NewAcks returns an Acks with no request waiting.
func NewAcks() *Acks { return &Acks{pending: make(map[string]ackWaiters)} }

// Undelivered records that a sink did not deliver events, for the requests
// waiting on them. It has the signature of tracker.WithUndeliveredHook's
// function.
func (a *Acks) Undelivered(sink string, events []tracker.Event, reason error) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range events {
		w, ok := a.pending[events[i].UUID]
		if !ok {
			continue
		}
		w.first.fail(events[i].UUID, sink, reason)
		for _, r := range w.more {
			r.fail(events[i].UUID, sink, reason)
		}
	}
}

// ackRequest is one request's view: which of its events a sink reported.
type ackRequest struct {
	uuids []string

	mu     sync.Mutex
	failed map[string]bool // UUIDs reported undelivered
	sinks  []string        // the sinks that reported, in order
	causes []string        // a short reason per sink, for the answer
	first  error           // the first reason, for the log
}

func (r *ackRequest) fail(uuid, sink string, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed = make(map[string]bool)
		r.first = fmt.Errorf("sink %q: %w", sink, reason)
	}
	r.failed[uuid] = true
	if !slices.Contains(r.sinks, sink) {
		r.sinks = append(r.sinks, sink)
		r.causes = append(r.causes, fmt.Sprintf("sink %q: %s", sink, causeOf(reason)))
	}
}

// causeOf names why a sink did not deliver, in words fit for the client: a
// sink's error text may name files or hosts, so it goes to the log only.
func causeOf(err error) string {
	switch {
	case errors.Is(err, tracker.ErrQueueFull):
		return "queue full"
	case errors.Is(err, tracker.ErrClosed):
		return "shutting down"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return "delivery failed"
}

// track registers a request's events; release must follow.
func (a *Acks) track(uuids []string) *ackRequest {
	r := &ackRequest{uuids: uuids}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range uuids {
		w, ok := a.pending[u]
		switch {
		case !ok:
			a.pending[u] = ackWaiters{first: r}
		case w.first == r || slices.Contains(w.more, r):
			// The same UUID twice in one request.
		default:
			w.more = append(w.more, r)
			a.pending[u] = w
		}
	}
	return r
}

// release forgets r and says how many of its events were reported
// undelivered, and by which sinks.
func (a *Acks) release(r *ackRequest) (failed int, cause string, first error) {
	a.mu.Lock()
	for _, u := range r.uuids {
		w, ok := a.pending[u]
		if !ok {
			continue
		}
		switch {
		case w.first == r && len(w.more) == 0:
			delete(a.pending, u)
		case w.first == r:
			w.first, w.more = w.more[0], w.more[1:]
			a.pending[u] = w
		default:
			if i := slices.Index(w.more, r); i >= 0 {
				w.more = slices.Delete(w.more, i, i+1)
				a.pending[u] = w
			}
		}
	}
	a.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failed), strings.Join(r.causes, ", "), r.first
}

// waiting returns the number of UUIDs with a request waiting (for tests).
func (a *Acks) waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}
