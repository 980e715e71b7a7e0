package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/tracker"
)

// Server is an http.Handler that speaks PostHog's capture API and hands
// every event it accepts to a Tracker. Create one with New; serve it with
// Serve, or mount it in a mux of your own. It is safe for concurrent use.
type Server struct {
	tr    *tracker.Tracker
	cfg   config
	keys  map[string]bool // nil: any key
	limit *keyLimiter
	log   zerolog.Logger

	counters counters
	health   health
	draining atomic.Bool
}

// New returns a Server capturing into t. It fails, naming every problem,
// when no API key is allowed (WithAPIKeys, or WithAnyAPIKey) or an option
// is invalid. The Server does not own t: close t after the Server is done.
func New(t *tracker.Tracker, opts ...Option) (*Server, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	err := c.validate()
	if t == nil {
		err = errors.Join(err, errors.New("nil Tracker"))
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	s := &Server{tr: t, cfg: c, log: c.log, limit: newKeyLimiter(c.rate, c.now)}
	if !c.anyKey {
		s.keys = make(map[string]bool, len(c.keys))
		for _, k := range c.keys {
			s.keys[k] = true
		}
	}
	return s, nil
}

// routes are PostHog's capture paths, without their trailing slash.
var routes = map[string]bool{"/batch": true, "/capture": true, "/e": true, "/i/v0/e": true, "/track": true}

// ServeHTTP answers PostHog's capture routes (POST, GET with data=, and
// CORS preflight), /healthz and /readyz. A nil *Server answers 503.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s == nil {
		writeStatus(w, http.StatusServiceUnavailable, "no server")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/healthz":
		writeStatus(w, http.StatusOK, "ok")
		return
	case path == "/readyz":
		if err := s.ready(); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeStatus(w, http.StatusOK, "ok")
		return
	case !routes[path]:
		writeError(w, &requestError{status: http.StatusNotFound, code: "not_found",
			detail: fmt.Sprintf("no route %q: capture at /batch/, /capture/, /e/, /i/v0/e/ or /track/", r.URL.Path)}, -1)
		return
	}
	cors(w, r)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost, http.MethodGet:
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeError(w, &requestError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			detail: fmt.Sprintf("method %s: want POST", r.Method)}, -1)
		return
	}
	s.counters.requests.Add(1)
	accepted, rerr := s.capture(r)
	if rerr != nil {
		s.counters.count(rerr)
		s.logRefusal(r, rerr)
		writeError(w, rerr, accepted)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":1}` + "\n"))
}

// capture handles one capture request. It returns how many events it
// handed to the tracker (-1 when the request was refused whole), and what
// was wrong.
func (s *Server) capture(r *http.Request) (int, *requestError) {
	now := s.cfg.now()
	data, rerr := readPayload(r, limits{body: s.cfg.maxBody, decoded: s.cfg.maxDecoded})
	if rerr != nil {
		return -1, rerr
	}
	p, rerr := parsePayload(data, s.cfg.maxEvents)
	if rerr != nil {
		return -1, rerr
	}
	if len(p.events) == 0 {
		return -1, badRequest(codeInvalidPayload, "the batch holds no events")
	}

	m := eventMapper{now: now}
	if t, ok := parseTime(p.sentAt); ok {
		m.sentAt = t
	}
	m.key, m.keyFrom = p.apiKey, "the request's api_key"
	if m.key == "" {
		q := r.URL.Query()
		m.key = q.Get("api_key")
		if m.key == "" {
			m.key = q.Get("token")
		}
		m.keyFrom = "the query's api_key"
	}
	events := make([]tracker.Event, 0, len(p.events))
	var probs problems
	for i := range p.events {
		where := "batch[" + strconv.Itoa(i) + "]"
		if p.single {
			where = "event"
		}
		if err := p.events[i].err; err != nil {
			probs.add("%s: %v", where, err)
			continue
		}
		if e, ok := m.mapEvent(&p.events[i].wireEvent, where, &probs); ok {
			events = append(events, e)
		}
	}
	if rerr := s.authorize(m.key); rerr != nil {
		return -1, rerr
	}
	if ok, wait := s.limit.allow(m.key, len(p.events)); !ok {
		return -1, &requestError{status: http.StatusTooManyRequests, code: codeRateLimited, retryAfter: wait,
			detail: fmt.Sprintf("rate limit of %s events for this project key: retry after %ds", s.cfg.rate, retryAfterSeconds(wait))}
	}

	if rerr := s.deliver(r.Context(), events); rerr != nil {
		return 0, rerr
	}
	s.counters.accepted.Add(uint64(len(events)))
	if probs.count > 0 {
		s.counters.invalidEvents.Add(uint64(probs.count))
		return len(events), badRequest(codeInvalidEvent, "%d of %d events refused: %s", probs.count, len(p.events), probs.String())
	}
	return len(events), nil
}

// authorize checks a project key against the allow list.
func (s *Server) authorize(key string) *requestError {
	switch {
	case key == "":
		return &requestError{status: http.StatusUnauthorized, code: codeInvalidKey,
			detail: "no project API key: send it as api_key in the body (PostHog's SDKs do)"}
	case s.keys != nil && !s.keys[key]:
		return &requestError{status: http.StatusUnauthorized, code: codeInvalidKey,
			detail: "project API key not accepted by this server (MULTITRACK_SERVE_API_KEYS)"}
	}
	return nil
}

// deliver captures the events; under AckDelivered it waits until the
// tracker has accounted for them, and fails when a sink did not deliver one.
func (s *Server) deliver(ctx context.Context, events []tracker.Event) *requestError {
	if s.cfg.acks == nil || len(events) == 0 {
		for _, e := range events {
			s.tr.Capture(ctx, e)
		}
		return nil
	}
	uuids := make([]string, len(events))
	for i := range events {
		uuids[i] = events[i].UUID
	}
	req := s.cfg.acks.track(uuids)
	for _, e := range events {
		s.tr.Capture(ctx, e)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ackTimeout)
	flushErr := s.tr.Flush(fctx)
	cancel()
	failed, cause, first := s.cfg.acks.release(req)
	switch {
	case failed > 0:
		s.health.failed(first)
		s.log.Warn().Err(first).Int("undelivered", failed).Int("events", len(events)).Msg("multitrack serve: events not delivered; answered 503")
		return &requestError{status: http.StatusServiceUnavailable, code: codeNotDelivered, retryAfter: time.Second,
			detail: fmt.Sprintf("%d of %d events not delivered (%s): retry", failed, len(events), cause)}
	case flushErr != nil:
		s.health.failed(flushErr)
		s.log.Warn().Err(flushErr).Int("events", len(events)).Msg("multitrack serve: delivery not confirmed in time; answered 503")
		return &requestError{status: http.StatusServiceUnavailable, code: codeNotDelivered, retryAfter: time.Second,
			detail: fmt.Sprintf("delivery of %d events not confirmed within %v: retry", len(events), s.cfg.ackTimeout)}
	}
	s.health.delivered()
	return nil
}

// cors lets browsers send events from any origin, with credentials, as
// PostHog's capture endpoint does: a project key is public.
func cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		} else {
			h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
		}
		h.Set("Access-Control-Max-Age", "86400")
	}
}

func writeStatus(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": msg})
}

// logRefusal logs a refused request at debug level (warn for 5xx, already
// logged): its route, status and what was wrong, never its key or content.
func (s *Server) logRefusal(r *http.Request, e *requestError) {
	if e.status >= 500 {
		return
	}
	s.log.Debug().Str("path", r.URL.Path).Int("status", e.status).Str("code", e.code).Str("detail", e.detail).Msg("multitrack serve: request refused")
}

// Serve accepts connections on ln until ctx ends, then stops accepting,
// waits for the requests in flight (at most the drain timeout) and returns.
// It returns nil after a clean drain. It does not close the tracker.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.readHeaderTimeout,
		ReadTimeout:       s.cfg.readTimeout,
		WriteTimeout:      s.cfg.readTimeout + s.cfg.ackTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newHTTPErrorLog(s.log),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("ingest: serving: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.drainTimeout)
	defer cancel()
	err := hs.Shutdown(dctx)
	<-served // Serve returns as soon as Shutdown begins
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("ingest: draining requests in flight: %w", err)
	}
	return nil
}
