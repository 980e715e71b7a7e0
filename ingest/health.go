package ingest

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// Stats are a Server's counters.
type Stats struct {
	// Requests counts capture requests (not preflights or health checks).
	Requests uint64
	// Accepted counts events handed to the tracker.
	Accepted uint64
	// InvalidEvents counts events refused one by one (400, the rest kept).
	InvalidEvents uint64
	// Malformed counts requests refused whole as unreadable (400, 415).
	Malformed uint64
	// Unauthorized counts requests without an accepted project key (401).
	Unauthorized uint64
	// TooLarge counts requests over a size or event limit (413).
	TooLarge uint64
	// RateLimited counts requests over their key's rate (429).
	RateLimited uint64
	// NotDelivered counts requests whose events were not all delivered
	// (503, under AckDelivered).
	NotDelivered uint64
}

type counters struct {
	requests, accepted, invalidEvents                    atomic.Uint64
	malformed, unauthorized, tooLarge, rateLimited, lost atomic.Uint64
}

func (c *counters) count(e *requestError) {
	switch e.status {
	case http.StatusUnauthorized:
		c.unauthorized.Add(1)
	case http.StatusRequestEntityTooLarge:
		c.tooLarge.Add(1)
	case http.StatusTooManyRequests:
		c.rateLimited.Add(1)
	case http.StatusServiceUnavailable:
		c.lost.Add(1)
	default:
		if e.code != codeInvalidEvent {
			c.malformed.Add(1)
		}
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	c := &s.counters
	return Stats{
		Requests:      c.requests.Load(),
		Accepted:      c.accepted.Load(),
		InvalidEvents: c.invalidEvents.Load(),
		Malformed:     c.malformed.Load(),
		Unauthorized:  c.unauthorized.Load(),
		TooLarge:      c.tooLarge.Load(),
		RateLimited:   c.rateLimited.Load(),
		NotDelivered:  c.lost.Load(),
	}
}

// health decides readiness: a sink is taken as unreachable when its
// failures grew and its deliveries did not since the previous check, or,
// under AckDelivered, when the last request's delivery failed.
type health struct {
	mu        sync.Mutex
	last      map[string]sinkProgress
	ackFailed error // the last request's delivery failure; nil after a success
}

type sinkProgress struct{ delivered, failed uint64 }

func (h *health) failed(err error) {
	h.mu.Lock()
	h.ackFailed = err
	h.mu.Unlock()
}

func (h *health) delivered() {
	h.mu.Lock()
	h.ackFailed = nil
	h.mu.Unlock()
}

// ready returns nil when the server can take events, or why not.
func (s *Server) ready() error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	st := s.tr.Stats()
	var failing []string
	next := make(map[string]sinkProgress, len(st.Sinks))
	for name, ss := range st.Sinks {
		p := sinkProgress{delivered: ss.Delivered - ss.Undelivered, failed: ss.Failed + ss.Undelivered}
		next[name] = p
		if prev, ok := h.last[name]; ok && p.failed > prev.failed && p.delivered == prev.delivered {
			failing = append(failing, name)
		}
	}
	h.last = next
	if len(failing) > 0 {
		slices.Sort(failing)
		return fmt.Errorf("sinks failing: %v", failing)
	}
	if h.ackFailed != nil {
		return errors.New("the last request's events were not delivered")
	}
	return nil
}

// newHTTPErrorLog sends net/http's own messages (a TLS handshake that
// failed, a panic in a handler) to the logger at warn level.
func newHTTPErrorLog(l zerolog.Logger) *log.Logger {
	return log.New(httpLogWriter{l}, "", 0)
}

type httpLogWriter struct{ l zerolog.Logger }

func (w httpLogWriter) Write(p []byte) (int, error) {
	w.l.Warn().Str("from", "net/http").Msg(string(p))
	return len(p), nil
}
