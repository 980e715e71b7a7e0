package posthog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/tracker"
)

// pending is a message handed to posthog-go and not yet settled: an event,
// or a $groupidentify.
type pending struct {
	ev       tracker.Event     // the sink's own copy; UUID as the event had it
	identify *ph.GroupIdentify // set for a $groupidentify (ev is then empty)
	attempts int               // failed attempts so far
	seq      uint64
}

// message is what posthog-go is given for p, sent as UUID u.
func (p *pending) message(u string) ph.Message {
	if p.identify != nil {
		return *p.identify
	}
	return capture(&p.ev, p.ev.Properties, u)
}

// ledger tracks the messages handed to posthog-go, by the UUID sent, until
// they are delivered or given up on. It is safe for concurrent use.
type ledger struct {
	mu      sync.Mutex
	byUUID  map[string][]*pending // oldest first; more than one only when messages share a UUID
	events  int                   // events tracked (not yet taken)
	open    int                   // added and not yet settled: tracked, or taken and being reported
	seq     uint64                // sequence number of the last message added
	waiters []*waiter             // few: Flush and Close
}

// waiter waits for every message added up to target to be taken and settled.
type waiter struct {
	target    uint64
	remaining int
	done      chan struct{}
}

func newLedger() *ledger { return &ledger{byUUID: make(map[string][]*pending)} }

// add tracks ps[i] under uuids[i].
func (l *ledger) add(uuids []string, ps []pending) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, u := range uuids {
		l.seq++
		p := ps[i]
		p.seq = l.seq
		l.byUUID[u] = append(l.byUUID[u], &p)
		l.open++
		if p.identify == nil {
			l.events++
		}
	}
}

// take untracks the oldest message tracked under u and, for an event, adds
// it to outcome. The caller reports it, then calls settle with its seq:
// waiters are released only then, so that when wait returns every report
// it covers is complete.
func (l *ledger) take(u string, outcome *atomic.Uint64) (pending, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := l.byUUID[u]
	if len(ps) == 0 {
		return pending{}, false
	}
	p := ps[0]
	if len(ps) > 1 {
		l.byUUID[u] = ps[1:]
	} else {
		delete(l.byUUID, u)
	}
	if p.identify == nil {
		l.events--
		if outcome != nil {
			outcome.Add(1)
		}
	}
	return *p, true
}

// peek returns the oldest message tracked under u, leaving it tracked.
func (l *ledger) peek(u string) (pending, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ps := l.byUUID[u]; len(ps) > 0 {
		return *ps[0], true
	}
	return pending{}, false
}

// fail counts a failed attempt of the oldest message tracked under u, and
// returns its failed attempts so far.
func (l *ledger) fail(u string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := l.byUUID[u]
	if len(ps) == 0 {
		return 0, false
	}
	ps[0].attempts++
	return ps[0].attempts, true
}

// settle counts the message numbered seq, taken and reported, for the waiters.
func (l *ledger) settle(seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if len(l.waiters) == 0 {
		return
	}
	l.waiters = slices.DeleteFunc(l.waiters, func(w *waiter) bool {
		if seq <= w.target {
			w.remaining--
		}
		if w.remaining == 0 {
			close(w.done)
			return true
		}
		return false
	})
}

// takeAll untracks every message, and releases every waiter: after it,
// messages taken but not yet settled are no longer waited for (Close's
// deadline). It returns the events; $groupidentify messages are dropped.
func (l *ledger) takeAll() []tracker.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []tracker.Event
	n := 0 // messages tracked
	for _, ps := range l.byUUID {
		n += len(ps)
		for _, p := range ps {
			if p.identify == nil {
				all = append(all, p.ev)
			}
		}
	}
	clear(l.byUUID)
	l.open -= n // never settled: the caller reports them
	l.events = 0
	for _, w := range l.waiters {
		close(w.done)
	}
	l.waiters = nil
	return all
}

// pendingEvents is the number of events tracked.
func (l *ledger) pendingEvents() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events
}

// wait waits until every message added before the call has been taken and
// settled, or ctx ends; then it returns an error counting those left. A
// message taken but not yet settled counts: its report is still under way.
func (l *ledger) wait(ctx context.Context) error {
	l.mu.Lock()
	if l.open == 0 {
		l.mu.Unlock()
		return nil
	}
	w := &waiter{target: l.seq, remaining: l.open, done: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-w.done: // just now
		return nil
	default:
	}
	l.waiters = slices.DeleteFunc(l.waiters, func(x *waiter) bool { return x == w })
	return fmt.Errorf("posthog: %d messages not yet delivered nor given up on: %w", w.remaining, ctx.Err())
}
