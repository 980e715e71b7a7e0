// Package posthogtest is a local PostHog-compatible /batch/ endpoint for
// tests: it decodes every batch (gzip or plain), records each message's UUID,
// and answers each request as a script says (a status, a Retry-After, or no
// answer at all).
package posthogtest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Answer is how the server answers one request.
type Answer struct {
	Status     int    // 0 means 200
	RetryAfter string // the Retry-After header, if not empty
	Hang       bool   // no answer: hold the request until the client gives up or the test ends
}

// Script gives the answer to the n-th request (from 0).
type Script func(n int) Answer

// Always answers every request with status.
func Always(status int) Script { return func(int) Answer { return Answer{Status: status} } }

// Hang never answers.
func Hang() Script { return func(int) Answer { return Answer{Hang: true} } }

// FailFirst answers the first n requests with a, and 200 after.
func FailFirst(n int, a Answer) Script {
	return func(i int) Answer {
		if i < n {
			return a
		}
		return Answer{}
	}
}

// Outage answers with status until d has passed since the first request,
// and 200 after.
func Outage(d time.Duration, status int) Script {
	var once sync.Once
	var start time.Time
	var mu sync.Mutex
	return func(int) Answer {
		mu.Lock()
		defer mu.Unlock()
		once.Do(func() { start = time.Now() })
		if time.Since(start) < d {
			return Answer{Status: status}
		}
		return Answer{}
	}
}

// Request is one POST /batch/ as the server decoded it.
type Request struct {
	At              time.Time // when it arrived
	Status          int       // the status answered (0 when it hung)
	Hung            bool      // no answer was given
	ContentEncoding string
	Compression     string           // the compression query parameter
	APIKey          string           `json:"api_key"`
	Historical      bool             `json:"historical_migration"`
	Batch           []map[string]any `json:"batch"`
}

// Server is a local PostHog /batch/ endpoint. Create it with NewServer; it
// is closed when the test ends.
type Server struct {
	// URL is the endpoint to give the client (POSTHOG_HOST).
	URL string

	t       testing.TB
	srv     *httptest.Server
	script  Script
	release chan struct{}

	mu       sync.Mutex
	requests []Request
	accepted map[string]int // uuid -> times accepted with a 2xx
	order    []string       // event names in the order accepted
}

// NewServer starts a server answering as script says (nil: always 200).
func NewServer(t testing.TB, script Script) *Server {
	if script == nil {
		script = Always(http.StatusOK)
	}
	s := &Server{t: t, script: script, release: make(chan struct{}), accepted: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.release) }) // runs first: frees hanging handlers
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/batch/" {
		s.t.Errorf("posthogtest: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			s.t.Errorf("posthogtest: gzip body: %v", err)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return // the client went away
	}
	req := Request{At: at}
	if err := json.Unmarshal(raw, &req); err != nil {
		s.t.Errorf("posthogtest: batch body is not JSON: %v: %.200s", err, raw)
		return
	}
	req.ContentEncoding = r.Header.Get("Content-Encoding")
	req.Compression = r.URL.Query().Get("compression")

	s.mu.Lock()
	a := s.script(len(s.requests))
	req.Status, req.Hung = a.Status, a.Hang
	if req.Status == 0 && !a.Hang {
		req.Status = http.StatusOK
	}
	s.requests = append(s.requests, req)
	if req.Status >= 200 && req.Status < 300 {
		for _, m := range req.Batch {
			u, _ := m["uuid"].(string)
			name, _ := m["event"].(string)
			s.accepted[u]++
			s.order = append(s.order, name)
		}
	}
	s.mu.Unlock()

	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	w.WriteHeader(req.Status)
	if req.Status < 300 {
		io.WriteString(w, `{"status":1}`)
		return
	}
	// Echo what it did not like, the key and a property value included, as
	// a real server may: the client must not log it.
	var user any
	if len(req.Batch) > 0 {
		if p, ok := req.Batch[0]["properties"].(map[string]any); ok {
			user = p["user"]
		}
	}
	fmt.Fprintf(w, `{"type":"validation_error","detail":"rejected for project %s, user %v"}`, req.APIKey, user)
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Accepted returns how many times each UUID was accepted (answered 2xx).
func (s *Server) Accepted() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.accepted))
	for k, v := range s.accepted {
		m[k] = v
	}
	return m
}

// Order returns the event names accepted, in the order accepted.
func (s *Server) Order() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Messages returns every message accepted, by UUID.
func (s *Server) Messages() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range s.Requests() {
		if r.Status >= 200 && r.Status < 300 {
			for _, m := range r.Batch {
				u, _ := m["uuid"].(string)
				out[u] = m
			}
		}
	}
	return out
}

// NewDiscardServer starts a server that reads each request and answers 200
// without decoding it: a PostHog as fast as the loopback allows, for
// benchmarks. It is closed when the benchmark ends.
func NewDiscardServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"status":1}`)
	}))
	tb.Cleanup(srv.Close)
	return srv
}
