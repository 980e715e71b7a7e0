package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/multitrack/multitrack/ingest"
	"github.com/multitrack/multitrack/metrics"
	"github.com/multitrack/multitrack/tracker"
)

// serveCommand runs a PostHog-compatible capture endpoint into the
// configured sinks (package ingest).
type serveCommand struct {
	main *Main

	addr, metrics              string
	anyKey                     bool
	maxBodyMB, maxDecodedMB    int
	maxEvents                  int
	ackTimeout, drain, closeTO time.Duration
}

func (c *serveCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", ":8000", "listen on `ADDR`")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics at `ADDR`/metrics (e.g. 127.0.0.1:9464)")
	fs.BoolVar(&c.anyKey, "insecure-any-key", false, "accept any project API key (local use: anyone who reaches the port can send events)")
	fs.IntVar(&c.maxBodyMB, "max-body-mb", ingest.DefaultMaxBodyBytes>>20, "largest request body as sent, in MiB")
	fs.IntVar(&c.maxDecodedMB, "max-decoded-mb", ingest.DefaultMaxDecodedBytes>>20, "largest payload once decompressed, in MiB")
	fs.IntVar(&c.maxEvents, "max-events", ingest.DefaultMaxEvents, "most events in one request")
	fs.DurationVar(&c.ackTimeout, "ack-timeout", ingest.DefaultAckTimeout, "longest wait for delivery before answering 503 (MULTITRACK_SERVE_ACK=delivered)")
	fs.DurationVar(&c.drain, "drain-timeout", ingest.DefaultDrainTimeout, "on SIGTERM, longest wait for requests in flight")
	fs.DurationVar(&c.closeTO, "close-timeout", 10*time.Second, "on SIGTERM, longest wait for the sinks to deliver what is queued")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack serve [--addr :8000] [flags]

Speaks PostHog's capture API (POST /batch/, /capture/, /e/, /i/v0/e/, /track/)
so that PostHog's SDKs in any language send their events through the sinks the
environment configures (stdout when none is): point the SDK's host at this
server. /healthz and /readyz answer for load balancers. SIGTERM stops
accepting, finishes the requests in flight, delivers what is queued and exits.

Environment:
  MULTITRACK_SERVE_API_KEYS  accepted project keys, comma-separated (required
                             unless --insecure-any-key)
  MULTITRACK_SERVE_ACK       delivered (default: answer once the sinks delivered
                             the events, 503 otherwise) or queued (answer once
                             captured)
  MULTITRACK_SERVE_RATE      each key's event rate, e.g. 1000/s or
                             1000/s:burst=5000 (429 with Retry-After past it)
and every variable of the sinks (multitrack config lists them).

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	switch {
	case c.maxBodyMB <= 0 || c.maxDecodedMB <= 0 || c.maxEvents <= 0:
		return usageErrorf("serve: --max-body-mb, --max-decoded-mb and --max-events must be positive")
	case c.ackTimeout <= 0 || c.drain <= 0 || c.closeTO <= 0:
		return usageErrorf("serve: timeouts must be positive")
	}
	env, err := ingest.ConfigFromLookup(c.main.lookup())
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if len(env.APIKeys) == 0 && !c.anyKey {
		return fmt.Errorf("serve: no project API keys: set %s (comma-separated), or pass --insecure-any-key to accept any", ingest.EnvAPIKeys)
	}

	opts := []ingest.Option{
		ingest.WithMaxBodyBytes(int64(c.maxBodyMB) << 20),
		ingest.WithMaxDecodedBytes(int64(c.maxDecodedMB) << 20),
		ingest.WithMaxEvents(c.maxEvents),
		ingest.WithRateLimit(env.Rate),
		ingest.WithAckTimeout(c.ackTimeout),
		ingest.WithDrainTimeout(c.drain),
	}
	if len(env.APIKeys) > 0 {
		opts = append(opts, ingest.WithAPIKeys(env.APIKeys...))
	} else {
		opts = append(opts, ingest.WithAnyAPIKey())
	}
	var trackerOpts []tracker.Option
	if env.Ack == ingest.AckDelivered {
		// The tracker reports what a sink did not deliver; the server
		// matches the reports to the requests waiting on them.
		acks := ingest.NewAcks()
		trackerOpts = append(trackerOpts, tracker.WithUndeliveredHook(acks.Undelivered))
		opts = append(opts, ingest.WithDeliveredAck(acks))
	}
	tr, err := c.main.newTracker(trackerOpts...)
	if err != nil {
		return err
	}
	closeTracker := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), c.closeTO)
		defer cancel()
		return tr.Close(cctx)
	}
	srv, err := ingest.New(tr, opts...)
	if err != nil {
		return errors.Join(fmt.Errorf("serve: %w", err), closeTracker())
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return errors.Join(fmt.Errorf("serve: --addr %s: %w", c.addr, err), closeTracker())
	}
	ms, err := startMetrics(c.metrics, tr, map[string]http.Handler{"/healthz": srv, "/readyz": srv},
		metrics.NewStatsCollector("serve", func() any { return srv.Stats() }))
	if err != nil {
		ln.Close()
		return errors.Join(fmt.Errorf("serve: %w", err), closeTracker())
	}
	fmt.Fprintf(c.main.Stderr, "serve: listening on http://%s (ack %s, %d project keys)\n", ln.Addr(), env.Ack, len(env.APIKeys))
	if ms != nil {
		fmt.Fprintln(c.main.Stderr, "serve: metrics at", ms.URL())
	}

	serveErr := srv.Serve(ctx, ln)
	fmt.Fprintln(c.main.Stderr, "serve: stopped accepting; delivering what is queued")
	closeErr := closeTracker()
	metricsErr := ms.Close(context.Background())
	s := srv.Stats()
	fmt.Fprintf(c.main.Stderr, "serve: %d requests, %d events accepted, %d refused (%d invalid events; %d malformed, %d unauthorized, %d too large, %d rate limited, %d not delivered)\n",
		s.Requests, s.Accepted, s.Malformed+s.Unauthorized+s.TooLarge+s.RateLimited+s.NotDelivered, s.InvalidEvents,
		s.Malformed, s.Unauthorized, s.TooLarge, s.RateLimited, s.NotDelivered)
	if err := errors.Join(serveErr, closeErr, metricsErr); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
