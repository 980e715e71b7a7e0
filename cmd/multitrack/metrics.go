package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/multitrack/multitrack/metrics"
	"github.com/multitrack/multitrack/tracker"
)

// metricsServer serves a tracker's Prometheus metrics at /metrics, and any
// extra handlers (the relay's /healthz, say), for the --metrics flag of the
// long-running commands.
type metricsServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error // the Serve goroutine's result
}

// startMetrics listens on addr and serves t's metrics until Close. An empty
// addr serves nothing and returns a nil server, whose methods are no-ops.
func startMetrics(addr string, t *tracker.Tracker, extra map[string]http.Handler) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(t))
	for path, h := range extra {
		mux.Handle(path, h)
	}
	s := &metricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// URL is where the metrics are served.
func (s *metricsServer) URL() string {
	if s == nil {
		return ""
	}
	return "http://" + s.addr.String() + "/metrics"
}

// Close stops the server, letting a scrape under way finish within ctx.
func (s *metricsServer) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
