package posthog

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "phc_TESTKEY_must_never_be_logged_0123456789"

// collector is an UndeliveredFunc that records what it is given.
type collector struct {
	mu      sync.Mutex
	calls   int
	events  []tracker.Event
	reasons []error
}

func (c *collector) report(events []tracker.Event, reason error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	for _, e := range events {
		c.events = append(c.events, e)
		c.reasons = append(c.reasons, reason)
	}
}

func (c *collector) uuids() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for _, e := range c.events {
		m[e.UUID]++
	}
	return m
}

func (c *collector) allReasons() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.reasons...)
}

// fastOptions keep tests quick: small batches, short interval and backoff.
func fastOptions(endpoint string, more ...Option) []Option {
	return append([]Option{
		WithEndpoint(endpoint),
		WithBatchSize(5),
		WithInterval(5 * time.Millisecond),
		WithMaxRetries(2),
		WithRetryBackoff(2*time.Millisecond, 10*time.Millisecond),
	}, more...)
}

// newTestSink creates a sink with an undelivered collector, closed at cleanup
// if the test did not close it.
func newTestSink(t testing.TB, endpoint string, more ...Option) (*Sink, *collector) {
	t.Helper()
	s, err := New(testKey, fastOptions(endpoint, more...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := &collector{}
	s.SetUndelivered(c.report)
	closeAtCleanup(t, s)
	return s, c
}

func closeAtCleanup(t testing.TB, s *Sink) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil && !errors.Is(err, ErrClosed) {
			t.Logf("cleanup Close: %v", err)
		}
	})
}

// makeEvents builds n events with UUIDv7s, alternately for an organization
// and standalone.
func makeEvents(n int) []tracker.Event {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)
	evs := make([]tracker.Event, n)
	for i := range evs {
		e := tracker.Event{
			Name:       "query_initiated",
			UUID:       uuidv7.Canonical(""),
			Timestamp:  ts.Add(time.Duration(i) * time.Millisecond),
			Properties: map[string]any{"i": i, "user": "alice"},
		}
		if i%2 == 0 {
			e.DistinctID = "org_42"
			e.Groups = map[string]string{tracker.GroupOrganization: "org_42"}
		} else {
			e.DistinctID = "standalone"
		}
		evs[i] = e
	}
	return evs
}

// writeAll writes events in batches of size n, as the tracker's worker does.
func writeAll(t testing.TB, s *Sink, events []tracker.Event, n int) {
	t.Helper()
	for len(events) > 0 {
		k := min(n, len(events))
		if err := s.Write(context.Background(), events[:k]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		events = events[k:]
	}
}

// within returns a context that ends after d: a liveness guard for waits
// that must end by themselves, not a bound the test asserts.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitForRequests returns once the server has received n requests.
func waitForRequests(t *testing.T, f *posthogtest.Server, n int) {
	t.Helper()
	ctx := within(t, 10*time.Second)
	for len(f.Requests()) < n {
		if ctx.Err() != nil {
			t.Fatalf("the server got %d requests, want %d", len(f.Requests()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// assertAccounted checks the UUID accounting: every event written is either
// accepted by the server or reported undelivered, exactly once, never both,
// and nothing else is reported. It returns how many of each.
func assertAccounted(t *testing.T, events []tracker.Event, f *posthogtest.Server, c *collector) (accepted, undelivered int) {
	t.Helper()
	acc := f.Accepted()
	und := c.uuids()
	written := make(map[string]bool, len(events))
	for _, e := range events {
		written[e.UUID] = true
		a, u := acc[e.UUID], und[e.UUID]
		switch {
		case a+u == 0:
			t.Errorf("event %s lost: neither accepted nor reported undelivered", e.UUID)
		case a+u > 1:
			t.Errorf("event %s counted %d times accepted, %d times undelivered", e.UUID, a, u)
		}
		accepted += a
		undelivered += u
	}
	for _, k := range sortedKeys(und) {
		if !written[k] {
			t.Errorf("reported undelivered an event never written: %s", k)
		}
	}
	return accepted, undelivered
}

// refusedEndpoint is an address where nothing listens.
func refusedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// lockedBuffer is a concurrency-safe log destination.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
