package posthog

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

func TestLedgerWaitCoversOnlyEarlierEvents(t *testing.T) {
	l := newLedger()
	var n atomic.Uint64
	ev := func(u string) tracker.Event { return tracker.Event{Name: "e", UUID: u} }
	l.add([]string{"a", "b", "a"}, []tracker.Event{ev("a"), ev("b"), ev("a")})

	done := make(chan error, 1)
	go func() { done <- l.wait(context.Background()) }()
	// Wait until the waiter is registered, then add events it must not wait for.
	awaitWaiter(l)
	l.add([]string{"c"}, []tracker.Event{ev("c")})
	for _, u := range []string{"a", "b", "a"} {
		select {
		case err := <-done:
			t.Fatalf("wait returned %v before %s was taken", err, u)
		default:
		}
		_, seq, ok := l.take(u, &n)
		if !ok {
			t.Fatalf("take(%s) found nothing", u)
		}
		time.Sleep(time.Millisecond) // give a wrongly released wait time to show
		select {
		case err := <-done:
			t.Fatalf("wait returned %v before %s was settled (reported)", err, u)
		default:
		}
		l.settle(seq)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait = %v", err)
	}
	if _, _, ok := l.take("a", &n); ok {
		t.Error("a taken three times, added twice")
	}
	if n.Load() != 3 || l.len() != 1 {
		t.Errorf("outcome %d, len %d; want 3, 1", n.Load(), l.len())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 events") {
		t.Errorf("wait on a done ctx = %v", err)
	}
	if all := l.takeAll(); len(all) != 1 || all[0].UUID != "c" || l.len() != 0 {
		t.Errorf("takeAll = %v", all)
	}
}

// TestLedgerWaitCountsEventsTakenButNotSettled registers a wait while an
// event is taken and still being reported (a Failure callback writing the
// dead letter): its settle must not count for an event still tracked, or
// Flush returns, and Close gives up on events, before posthog-go has
// reported on them.
func TestLedgerWaitCountsEventsTakenButNotSettled(t *testing.T) {
	l := newLedger()
	var n atomic.Uint64
	ev := func(u string) tracker.Event { return tracker.Event{Name: "e", UUID: u} }
	l.add([]string{"a", "b", "c"}, []tracker.Event{ev("a"), ev("b"), ev("c")})
	_, seqA, _ := l.take("a", &n) // being reported: not yet settled

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.wait(ctx) }()
	awaitWaiter(l)
	l.settle(seqA)
	_, seqB, _ := l.take("b", &n)
	l.settle(seqB)
	cancel() // c is still tracked: wait must end with ctx, naming it
	err := <-done
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 events") {
		t.Fatalf("wait = %v; want 1 event (c) left and context.Canceled", err)
	}

	// Once c is reported, a new wait returns at once.
	_, seqC, _ := l.take("c", &n)
	l.settle(seqC)
	if err := l.wait(context.Background()); err != nil {
		t.Fatalf("wait with nothing tracked = %v", err)
	}
}

// awaitWaiter returns once a wait is registered with l.
func awaitWaiter(l *ledger) {
	for {
		l.mu.Lock()
		k := len(l.waiters)
		l.mu.Unlock()
		if k > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
