package posthog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "phc_TESTKEY_must_never_be_logged_0123456789"

// hang, as a status, makes the fake PostHog hold the request until the client
// gives up (or the test ends).
const hang = -1

// request is one decoded POST /batch/ as PostHog would receive it.
type request struct {
	Status          int
	ContentEncoding string
	Compression     string           // the compression query parameter
	APIKey          string           `json:"api_key"`
	Batch           []map[string]any `json:"batch"`
}

// fakePostHog is a local PostHog /batch/ endpoint that decodes what it
// receives and answers with the status its policy gives for the n-th request.
type fakePostHog struct {
	t       testing.TB
	srv     *httptest.Server
	policy  func(n int) int
	release chan struct{}

	mu       sync.Mutex
	requests []request
	accepted map[string]int // uuid -> times accepted with a 2xx
	order    []string       // event names in the order accepted
}

func newFakePostHog(t testing.TB, policy func(n int) int) *fakePostHog {
	f := &fakePostHog{t: t, policy: policy, release: make(chan struct{}), accepted: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs first: frees hanging handlers
	return f
}

func always(status int) func(int) int { return func(int) int { return status } }

func (f *fakePostHog) URL() string { return f.srv.URL }

func (f *fakePostHog) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/batch/" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			f.t.Errorf("gzip body: %v", err)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return // the client went away
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		f.t.Errorf("batch body is not JSON: %v: %.200s", err, raw)
		return
	}
	req.ContentEncoding = r.Header.Get("Content-Encoding")
	req.Compression = r.URL.Query().Get("compression")

	f.mu.Lock()
	n := len(f.requests)
	req.Status = f.policy(n)
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	switch {
	case req.Status == hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	case req.Status < 300:
		f.mu.Lock()
		for _, m := range req.Batch {
			f.accepted[m["uuid"].(string)]++
			f.order = append(f.order, m["event"].(string))
		}
		f.mu.Unlock()
		w.WriteHeader(req.Status)
		io.WriteString(w, `{"status":1}`)
	default:
		w.WriteHeader(req.Status)
		// Echo what it did not like: the key and a property value included.
		var user any
		if len(req.Batch) > 0 {
			user = req.Batch[0]["properties"].(map[string]any)["user"]
		}
		fmt.Fprintf(w, `{"type":"validation_error","detail":"rejected for project %s, user %v"}`, req.APIKey, user)
	}
}

// snapshot returns copies of what the server has seen.
func (f *fakePostHog) snapshot() (reqs []request, accepted map[string]int, order []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	accepted = make(map[string]int, len(f.accepted))
	for k, v := range f.accepted {
		accepted[k] = v
	}
	return append([]request(nil), f.requests...), accepted, append([]string(nil), f.order...)
}

// messages returns every message the server accepted, by uuid.
func (f *fakePostHog) messages() map[string]map[string]any {
	reqs, _, _ := f.snapshot()
	out := map[string]map[string]any{}
	for _, r := range reqs {
		if r.Status >= 200 && r.Status < 300 {
			for _, m := range r.Batch {
				out[m["uuid"].(string)] = m
			}
		}
	}
	return out
}

// collector is an UndeliveredFunc that records what it is given.
type collector struct {
	mu      sync.Mutex
	events  []tracker.Event
	reasons []error
}

func (c *collector) report(events []tracker.Event, reason error) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil && !errors.Is(err, ErrClosed) {
			t.Logf("cleanup Close: %v", err)
		}
	})
	return s, c
}

// makeEvents builds n events with UUIDv7s, alternately for an organization
// and standalone.
func makeEvents(n int) []tracker.Event {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)
	evs := make([]tracker.Event, n)
	for i := range evs {
		e := tracker.Event{
			Name:       "query_initiated",
			UUID:       sendUUID(""),
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

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// assertAccounted checks that every event is either accepted by the server
// or reported undelivered, exactly once, never both.
func assertAccounted(t *testing.T, events []tracker.Event, f *fakePostHog, c *collector) (accepted, undelivered int) {
	t.Helper()
	_, acc, _ := f.snapshot()
	und := c.uuids()
	for _, e := range events {
		a, u := acc[e.UUID], und[e.UUID]
		switch {
		case a+u == 0:
			t.Errorf("event %s lost: neither accepted nor reported undelivered", e.UUID)
		case a > 1 || u > 1 || a+u > 1:
			t.Errorf("event %s counted %d times accepted, %d times undelivered", e.UUID, a, u)
		}
		accepted += a
		undelivered += u
	}
	if len(und) > 0 {
		for _, k := range sortedKeys(und) {
			if !containsUUID(events, k) {
				t.Errorf("reported undelivered an event never written: %s", k)
			}
		}
	}
	return accepted, undelivered
}

func containsUUID(events []tracker.Event, u string) bool {
	for _, e := range events {
		if e.UUID == u {
			return true
		}
	}
	return false
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
