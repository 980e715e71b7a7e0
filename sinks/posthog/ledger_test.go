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
	l.add([]string{"a", "b", "a"}, []pending{ev("a"), ev("b"), ev("a")})

	done := make(chan error, 1)
	go func() { done <- l.wait(context.Background()) }()
	// Wait until the waiter is registered, then add events it must not wait for.
	awaitWaiter(l)
	l.add([]string{"c"}, []pending{ev("c")})
	for _, u := range []string{"a", "b", "a"} {
		select {
		case err := <-done:
			t.Fatalf("wait returned %v before %s was taken", err, u)
		default:
		}
		p, ok := l.take(u, &n)
		if !ok {
			t.Fatalf("take(%s) found nothing", u)
		}
		time.Sleep(time.Millisecond) // give a wrongly released wait time to show
		select {
		case err := <-done:
			t.Fatalf("wait returned %v before %s was settled (reported)", err, u)
		default:
		}
		l.settle(p.seq)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait = %v", err)
	}
	if _, ok := l.take("a", &n); ok {
		t.Error("a taken three times, added twice")
	}
	if n.Load() != 3 || l.pendingEvents() != 1 {
		t.Errorf("outcome %d, len %d; want 3, 1", n.Load(), l.pendingEvents())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 messages") {
		t.Errorf("wait on a done ctx = %v", err)
	}
	if all := l.takeAll(); len(all) != 1 || all[0].UUID != "c" || l.pendingEvents() != 0 {
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
	l.add([]string{"a", "b", "c"}, []pending{ev("a"), ev("b"), ev("c")})
	a, _ := l.take("a", &n) // being reported: not yet settled

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.wait(ctx) }()
	awaitWaiter(l)
	l.settle(a.seq)
	b, _ := l.take("b", &n)
	l.settle(b.seq)
	cancel() // c is still tracked: wait must end with ctx, naming it
	err := <-done
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 messages") {
		t.Fatalf("wait = %v; want 1 event (c) left and context.Canceled", err)
	}

	// Once c is reported, a new wait returns at once.
	c, _ := l.take("c", &n)
	l.settle(c.seq)
	if err := l.wait(context.Background()); err != nil {
		t.Fatalf("wait with nothing tracked = %v", err)
	}
}

func ev(u string) pending { return pending{ev: tracker.Event{Name: "e", UUID: u}} }

// A failed attempt is counted against the oldest message under its UUID,
// which stays tracked (and waited for) until it is taken.
func TestLedgerFailCountsAttemptsAndKeepsTheMessage(t *testing.T) {
	l := newLedger()
	l.add([]string{"a", "a"}, []pending{ev("a"), ev("a")})
	for want := 1; want <= 3; want++ {
		if got, ok := l.fail("a"); !ok || got != want {
			t.Fatalf("fail = %d, %v; want %d", got, ok, want)
		}
	}
	p, _ := l.take("a", nil)
	if p.attempts != 3 {
		t.Errorf("taken with %d attempts, want 3", p.attempts)
	}
	if got, _ := l.fail("a"); got != 1 {
		t.Errorf("the second copy has %d attempts, want 1", got)
	}
	if _, ok := l.fail("zzz"); ok {
		t.Error("fail found a message never added")
	}
	if l.pendingEvents() != 1 {
		t.Errorf("pending %d, want 1", l.pendingEvents())
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
