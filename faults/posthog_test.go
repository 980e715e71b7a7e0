package faults

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

const testKey = "phc_faults_suite_key_never_logged"

// mode is how the local PostHog answers now.
type mode int32

const (
	healthy mode = iota
	answer500
	answer429
	hanging
)

// endpoint is a local PostHog behind a proxy, whose faults a test switches
// on and off while events flow.
type endpoint struct {
	srv   *posthogtest.Server
	proxy *proxy
	mode  atomic.Int32
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.srv = posthogtest.NewServer(t, func(int) posthogtest.Answer {
		switch mode(e.mode.Load()) {
		case answer500:
			return posthogtest.Answer{Status: http.StatusInternalServerError}
		case answer429:
			return posthogtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "1"}
		case hanging:
			return posthogtest.Answer{Hang: true}
		}
		return posthogtest.Answer{}
	})
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	e.proxy = newProxy(t, u.Host)
	return e
}

func (e *endpoint) set(m mode) { e.mode.Store(int32(m)) }

// newSink is a PostHog sink sending to e, batching 100 events or every
// 50 ms, with 2 retries from 50 ms: an event that meets an outage longer
// than about half a second (more under load: retries queue behind each
// other) is given up on and dead-lettered.
func (e *endpoint) newSink(t *testing.T, more ...posthog.Option) *posthog.Sink {
	opts := []posthog.Option{
		posthog.WithEndpoint(e.proxy.URL()),
		posthog.WithBatchSize(100),
		posthog.WithInterval(50 * time.Millisecond),
		posthog.WithMaxRetries(2),
		posthog.WithRetryBackoff(50*time.Millisecond, 2*time.Second),
	}
	s, err := posthog.New(testKey, append(opts, more...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPostHogOutagesAreAccountedForAndReplayed runs load through a tracker
// whose PostHog endpoint fails one way, then recovers; after Close every
// event is delivered, dead-lettered or counted, and replaying the dead
// letter delivers the rest.
func TestPostHogOutagesAreAccountedForAndReplayed(t *testing.T) {
	cases := []struct {
		name    string
		fault   func(*endpoint)
		recover func(*endpoint)
		// met says the fault has done what it is there for: the outage
		// lasts at least sc.outage, and until then.
		met        func(*endpoint, posthog.Stats) bool
		duplicates bool // an answer may be cut on its way: the event is sent again
	}{
		// Long enough that events run out of retries: dead-lettered.
		{"500", func(e *endpoint) { e.set(answer500) }, func(e *endpoint) { e.set(healthy) },
			func(_ *endpoint, ps posthog.Stats) bool { return ps.Undelivered > 0 }, false},
		// Each 429 holds every request back for a second.
		{"429 with Retry-After", func(e *endpoint) { e.set(answer429) }, func(e *endpoint) { e.set(healthy) },
			func(e *endpoint, ps posthog.Stats) bool { return ps.Held > 0 && e.answered(http.StatusTooManyRequests) }, false},
		// A hanging server is restarted: its connections are cut, and the
		// hung requests retried.
		{"hanging", func(e *endpoint) { e.set(hanging) }, func(e *endpoint) { e.set(healthy); e.proxy.reset() },
			func(e *endpoint, _ posthog.Stats) bool { return e.hung() }, true},
		// The server goes away: connections under way are cut, then
		// nothing listens on the port, long enough that events run out of
		// retries.
		{"refusing connections", func(e *endpoint) { e.proxy.down() }, func(e *endpoint) { e.proxy.up() },
			func(_ *endpoint, ps posthog.Stats) bool { return ps.Undelivered > 0 }, true},
	}
	sc := size()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEndpoint(t)
			dl := filepath.Join(t.TempDir(), "dead-letter.jsonl")
			h := newHookLog()
			rt := newWire(t)
			sink := e.newSink(t, posthog.WithTransport(rt))
			tr := newTracker(t, tracker.WithSink("posthog", sink, bigQueue), tracker.WithDeadLetter(dl), h.option())
			l := startLoad(t, tr, sc)
			time.Sleep(sc.healthy)
			tc.fault(e)
			time.Sleep(sc.outage)
			waitUntil(t, "the fault to be met", func() bool { return tc.met(e, sink.Stats()) })
			tc.recover(e)
			time.Sleep(sc.recovered)
			c := l.finish()
			ctx, cancel := context.WithTimeout(context.Background(), sc.closeIn)
			defer cancel()
			closeErr := tr.Close(ctx)

			st := tr.Stats()
			f := audit(t, c, st, outcome{sink: "posthog", delivered: e.srv.Accepted(), deadLettered: readDeadLetter(t, dl)["posthog"]},
				h, expect{afterWrite: true, duplicates: tc.duplicates})
			checkCloseError(t, closeErr, f)
			ps := sink.Stats()
			if ps.Retries == 0 || ps.Undelivered > 0 && f.DeadLettered == 0 {
				t.Errorf("the fault was not met: %d retries, %d events dead-lettered", ps.Retries, f.DeadLettered)
			}
			t.Logf("PostHog sink: %d requests, %d sent, %d retried, %d held back by Retry-After, %d given up on",
				len(e.srv.Requests()), ps.Sent, ps.Retries, ps.Held, ps.Undelivered)
			if tc.name == "429 with Retry-After" {
				rt.checkRetryAfterHonoured(t)
			}
			f.Replayed = replay(t, dl, "posthog", e.newSink(t))
			mustComplete(t, c, f, "posthog", e.srv.Accepted(), h)
			logFigures(t, f)
		})
	}
}

// bigQueue holds every event a bounded run captures: the PostHog sink's
// worker is slower than the load under the race detector on two busy
// cores, and these scenarios are about outages, not overflow
// (TestStalledSinkDropsCountedAndSlowsNoOther is).
var bigQueue = tracker.WithQueueSize(1 << 16)

// answered says whether a request was answered with status.
func (e *endpoint) answered(status int) bool {
	for _, r := range e.srv.Requests() {
		if r.Status == status {
			return true
		}
	}
	return false
}

// hung says whether a request got no answer.
func (e *endpoint) hung() bool {
	for _, r := range e.srv.Requests() {
		if r.Hung {
			return true
		}
	}
	return false
}

// waitUntil waits until cond holds, failing the test after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

// checkCloseError checks that Close's error names exactly the events that
// were not delivered: nil when there are none, else an UndeliveredError
// saying they are all in the dead letter.
func checkCloseError(t *testing.T, err error, f figures) {
	t.Helper()
	var ue *tracker.UndeliveredError
	switch {
	case f.DeadLettered == 0 && err != nil:
		t.Errorf("Close: %v, though every event was delivered", err)
	case f.DeadLettered > 0 && !errors.As(err, &ue):
		t.Errorf("Close returned %v; want an *UndeliveredError naming %d dead-lettered events", err, f.DeadLettered)
	case f.DeadLettered > 0 && ue.DeadLettered < ue.Count:
		t.Errorf("Close: %v: not every undelivered event is in the dead letter", err)
	}
}

// wire is the HTTP transport under the PostHog sink's own: it sees every
// request the sink lets go, and every answer, when the sink does.
type wire struct {
	next *http.Transport

	mu      sync.Mutex
	starts  []time.Time // requests sent
	answers []time.Time // 429 answers received
}

func newWire(t *testing.T) *wire {
	w := &wire{next: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(w.next.CloseIdleConnections)
	return w
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.starts = append(w.starts, time.Now())
	w.mu.Unlock()
	res, err := w.next.RoundTrip(req)
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		w.mu.Lock()
		w.answers = append(w.answers, time.Now())
		w.mu.Unlock()
	}
	return res, err
}

// checkRetryAfterHonoured checks that the sink sent no request in the
// second after it received a 429 asking for one.
func (w *wire) checkRetryAfterHonoured(t *testing.T) {
	t.Helper()
	// The sink holds requests back once it has read the answer, a moment
	// after this transport returns it.
	const reading = 200 * time.Millisecond
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.answers) == 0 {
		t.Errorf("no 429 reached the sink")
	}
	for _, a := range w.answers {
		for _, s := range w.starts {
			if d := s.Sub(a); d > reading && d < time.Second-reading {
				t.Errorf("a request was sent %v after a 429 asking for 1 s", d.Round(time.Millisecond))
				return
			}
		}
	}
}
