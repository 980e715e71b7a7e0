package posthog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/multitrack/multitrack/tracker"
)

// ledger tracks the events handed to posthog-go, by the UUID sent, until
// posthog-go reports on them. It is safe for concurrent use.
type ledger struct {
	mu      sync.Mutex
	byUUID  map[string]ledgerEntry
	n       int       // events tracked (not yet taken)
	open    int       // events added and not yet settled: tracked, or taken and being reported
	seq     uint64    // sequence number of the last event added
	waiters []*waiter // few: Flush and Close
}

type ledgerItem struct {
	ev  tracker.Event
	seq uint64
}

// ledgerEntry holds the events tracked under one UUID: more than one only
// when events share a UUID.
type ledgerEntry struct {
	first ledgerItem
	more  []ledgerItem
}

// waiter waits for every event added up to target to be taken and settled.
type waiter struct {
	target    uint64
	remaining int
	done      chan struct{}
}

func newLedger() *ledger { return &ledger{byUUID: make(map[string]ledgerEntry)} }

// add tracks events[i] under uuids[i].
func (l *ledger) add(uuids []string, events []tracker.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, u := range uuids {
		l.seq++
		it := ledgerItem{events[i], l.seq}
		if e, ok := l.byUUID[u]; ok {
			e.more = append(e.more, it)
			l.byUUID[u] = e
		} else {
			l.byUUID[u] = ledgerEntry{first: it}
		}
		l.n++
		l.open++
	}
}

// take untracks the oldest event tracked under u and adds it to outcome. The
// caller reports the event, then calls settle with seq: waiters are released
// only then, so that when wait returns every report it covers is complete.
func (l *ledger) take(u string, outcome *atomic.Uint64) (ev tracker.Event, seq uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byUUID[u]
	if !ok {
		return tracker.Event{}, 0, false
	}
	outcome.Add(1)
	it := e.first
	if len(e.more) > 0 {
		e.first, e.more = e.more[0], e.more[1:]
		l.byUUID[u] = e
	} else {
		delete(l.byUUID, u)
	}
	l.n--
	return it.ev, it.seq, true
}

// peek returns the oldest event tracked under u, leaving it tracked.
func (l *ledger) peek(u string) (tracker.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byUUID[u]
	return e.first.ev, ok
}

// settle counts the event numbered seq, taken and reported, for the waiters.
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

// takeAll untracks every event, and releases every waiter: after it, events
// taken but not yet settled are no longer waited for (Close's deadline).
func (l *ledger) takeAll() []tracker.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []tracker.Event
	for _, e := range l.byUUID {
		all = append(all, e.first.ev)
		for _, it := range e.more {
			all = append(all, it.ev)
		}
	}
	clear(l.byUUID)
	l.open -= l.n // never settled: the caller reports them
	l.n = 0
	for _, w := range l.waiters {
		close(w.done)
	}
	l.waiters = nil
	return all
}

func (l *ledger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// wait waits until every event added before the call has been taken and
// settled, or ctx ends; then it returns an error counting those left. An
// event taken but not yet settled counts: its report is still under way.
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
	return fmt.Errorf("posthog: %d events not yet reported on by posthog-go: %w", w.remaining, ctx.Err())
}
