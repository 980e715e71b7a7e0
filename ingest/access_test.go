package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestNewRefusesToStartWithoutAPIKeys(t *testing.T) {
	tr, _ := trackertest.NewTracker(t)
	if _, err := New(tr); err == nil || !strings.Contains(err.Error(), "MULTITRACK_SERVE_API_KEYS") {
		t.Errorf("New without keys: %v", err)
	}
	if _, err := New(tr, WithAnyAPIKey()); err != nil {
		t.Errorf("New with any key: %v", err)
	}
	if _, err := New(nil, WithAnyAPIKey(), WithMaxEvents(0)); err == nil || !strings.Contains(err.Error(), "nil Tracker") || !strings.Contains(err.Error(), "events 0") {
		t.Errorf("New(nil, bad limit): %v", err)
	}
}

func TestProjectKeysAreCheckedAndNeverEchoed(t *testing.T) {
	var logs bytes.Buffer
	r := newRig(t, WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	const other = "phc_unknown_key_never_echoed"
	cases := []struct {
		name   string
		path   string
		body   []byte
		status int
	}{
		{"allowed", "/batch/", batch(testKey, ev("e", "u", nil)), 200},
		{"unknown", "/batch/", batch(other, ev("e", "u", nil)), 401},
		{"none", "/batch/", []byte(`{"batch":[{"event":"e","distinct_id":"u"}]}`), 401},
		{"in the query", "/e/?api_key=" + testKey, []byte(`[{"event":"e","distinct_id":"u"}]`), 200},
		{"unknown in the query", "/e/?token=" + other, []byte(`[{"event":"e","distinct_id":"u"}]`), 401},
		{"in properties (posthog-js)", "/e/", []byte(`{"event":"e","properties":{"distinct_id":"u","token":"` + testKey + `"}}`), 200},
		{"unknown in properties", "/e/", []byte(`{"event":"e","properties":{"distinct_id":"u","token":"` + other + `"}}`), 401},
	}
	for _, c := range cases {
		resp := r.post(c.path, c.body)
		if resp.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.status, resp.raw, c.status)
		}
		if c.status == 401 && (resp.body["type"] != "authentication_error" || resp.body["code"] != "invalid_api_key") {
			t.Errorf("%s: %s", c.name, resp.raw)
		}
		if strings.Contains(resp.raw, other) || strings.Contains(resp.raw, testKey) {
			t.Errorf("%s: the key is in the answer: %s", c.name, resp.raw)
		}
	}
	got := r.flushed()
	if len(got) != 3 {
		t.Errorf("%d events kept, want the 3 with an allowed key", len(got))
	}
	for _, e := range got {
		if _, ok := e.Properties["token"]; ok {
			t.Errorf("the project key stayed in the properties: %v", e.Properties)
		}
	}
	if n := r.srv.Stats().Unauthorized; n != 4 {
		t.Errorf("Stats().Unauthorized = %d, want 4", n)
	}
	if !strings.Contains(logs.String(), "invalid_api_key") || strings.Contains(logs.String(), other) || strings.Contains(logs.String(), testKey) {
		t.Errorf("logs name the refusal without the key? %s", logs.String())
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRateLimitPerKeyAnswers429WithRetryAfter(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRig(t, WithAPIKeys("phc_second"), WithRateLimit(Rate{Events: 10, Per: time.Second}), WithClock(clock.Now))
	ten := make([]map[string]any, 10)
	for i := range ten {
		ten[i] = ev("e", "u", nil)
	}
	if resp := r.post("/batch/", batch(testKey, ten...)); resp.status != 200 {
		t.Fatalf("10 events within 10/s: %d %s", resp.status, resp.raw)
	}
	resp := r.post("/batch/", batch(testKey, ev("e", "u", nil)))
	if resp.status != 429 || resp.header.Get("Retry-After") != "1" || resp.body["code"] != "rate_limited" {
		t.Fatalf("the 11th event: %d Retry-After %q %s", resp.status, resp.header.Get("Retry-After"), resp.raw)
	}
	if resp := r.post("/batch/", batch("phc_second", ev("e", "u", nil))); resp.status != 200 {
		t.Errorf("another key is limited apart: %d %s", resp.status, resp.raw)
	}
	clock.Add(500 * time.Millisecond)
	if resp := r.post("/batch/", batch(testKey, ten[:5]...)); resp.status != 200 {
		t.Errorf("5 events after half a second: %d %s", resp.status, resp.raw)
	}
	// A batch larger than the bucket takes the whole (full) bucket.
	clock.Add(time.Second)
	twenty := append(append([]map[string]any{}, ten...), ten...)
	if resp := r.post("/batch/", batch(testKey, twenty...)); resp.status != 200 {
		t.Errorf("20 events, bucket of 10, full: %d %s", resp.status, resp.raw)
	}
	if got, want := len(r.flushed()), 10+1+5+20; got != want {
		t.Errorf("%d events kept, want %d", got, want)
	}
	if n := r.srv.Stats().RateLimited; n != 1 {
		t.Errorf("Stats().RateLimited = %d", n)
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"1000/s": {Events: 1000, Per: time.Second}, "50/1m:burst=5": {Events: 50, Per: time.Minute, Burst: 5},
		"": {}, "none": {},
	} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1000", "0/s", "x/s", "10/0s", "10/s:burst=0", "10/s:bust=5", "10/fortnight"} {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseRate(%q): %v", in, err)
		}
	}
}

func TestConfigFromLookupReportsEveryVariable(t *testing.T) {
	env := map[string]string{EnvAPIKeys: " phc_a, ,phc_b ", EnvAck: "sometimes", EnvRate: "fast"}
	c, err := ConfigFromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), EnvAck) || !strings.Contains(err.Error(), EnvRate) {
		t.Errorf("err = %v", err)
	}
	if len(c.APIKeys) != 2 || c.APIKeys[0] != "phc_a" || c.APIKeys[1] != "phc_b" {
		t.Errorf("keys %v", c.APIKeys)
	}
	c, err = ConfigFromLookup(func(string) (string, bool) { return "", false })
	if err != nil || c.Ack != AckDelivered || !c.Rate.IsZero() || c.APIKeys != nil {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

func TestBrowsersGetCORS(t *testing.T) {
	r := newRig(t)
	pre, _ := http.NewRequest(http.MethodOptions, r.url+"/e/", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	resp := r.do(pre)
	h := resp.header
	if resp.status != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Errorf("preflight: %d %v", resp.status, h)
	}
	post, _ := http.NewRequest(http.MethodPost, r.url+"/e/", bytes.NewReader(batch(testKey, ev("e", "u", nil))))
	post.Header.Set("Origin", "https://app.example.com")
	if resp := r.do(post); resp.status != 200 || resp.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.header.Get("Vary") != "Origin" {
		t.Errorf("POST with an Origin: %d %v", resp.status, resp.header)
	}
	if resp := r.post("/e/", batch(testKey, ev("e", "u", nil))); resp.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST without an Origin: %v", resp.header)
	}
	put, _ := http.NewRequest(http.MethodPut, r.url+"/e/", nil)
	if resp := r.do(put); resp.status != 405 || resp.header.Get("Allow") == "" {
		t.Errorf("PUT: %d %v", resp.status, resp.header)
	}
	if resp := r.post("/elsewhere/", nil); resp.status != 404 || !strings.Contains(resp.raw, "/batch/") {
		t.Errorf("unknown route: %d %s", resp.status, resp.raw)
	}
}

// failingSink fails every Write while fail is set.
type failingSink struct {
	mu   sync.Mutex
	fail bool
}

func (s *failingSink) Write(context.Context, []tracker.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("sink down")
	}
	return nil
}

func (s *failingSink) Close(context.Context) error { return nil }

func (s *failingSink) set(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

func TestReadinessFollowsTheSinks(t *testing.T) {
	sink := &failingSink{}
	tr, err := tracker.New(tracker.WithSink("flaky", sink, tracker.WithFlushInterval(5*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close(context.Background()) })
	r := newRigOn(t, tr, nil)
	get := func(path string) response {
		req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
		return r.do(req)
	}
	send := func() {
		r.post("/batch/", batch(testKey, ev("e", "u", nil)))
		_ = tr.Flush(context.Background())
	}
	if resp := get("/healthz"); resp.status != 200 {
		t.Errorf("healthz: %d", resp.status)
	}
	if resp := get("/readyz"); resp.status != 200 {
		t.Errorf("readyz at start: %d %s", resp.status, resp.raw)
	}
	sink.set(true)
	send()
	if resp := get("/readyz"); resp.status != 503 || !strings.Contains(resp.raw, "flaky") {
		t.Errorf("readyz with a failing sink: %d %s", resp.status, resp.raw)
	}
	sink.set(false)
	send()
	if resp := get("/readyz"); resp.status != 200 {
		t.Errorf("readyz once the sink delivers again: %d %s", resp.status, resp.raw)
	}
	r.srv.draining.Store(true)
	if resp := get("/readyz"); resp.status != 503 || !strings.Contains(resp.raw, "shutting down") {
		t.Errorf("readyz while draining: %d %s", resp.status, resp.raw)
	}
}
