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
	for {
		l.mu.Lock()
		k := len(l.waiters)
		l.mu.Unlock()
		if k == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
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
