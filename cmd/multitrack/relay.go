package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/metrics"
	"github.com/multitrack/multitrack/relay"
	"github.com/multitrack/multitrack/relay/embedded"
)

// relayCommand delivers the events of the JetStream stream into the
// configured sinks; with --embed it runs the JetStream server itself.
type relayCommand struct {
	main *Main

	embed    bool
	store    string
	metrics  string
	shutdown time.Duration
	progress time.Duration
}

func (c *relayCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.BoolVar(&c.embed, "embed", false, "run an in-process JetStream server listening on MULTITRACK_NATS_URL's address")
	fs.StringVar(&c.store, "store", embedded.DefaultStoreDir, "with --embed, the `DIR` where the server keeps the stream")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics at `ADDR`/metrics and health at ADDR/healthz (e.g. 127.0.0.1:9464)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", relay.DefaultShutdownTimeout, "on SIGTERM, how long to finish the batch in flight and close the sinks")
	fs.DurationVar(&c.progress, "progress", 5*time.Second, "how often to print the counters on stderr (0: only at the end)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack relay [--embed] [--store DIR] [flags]

Delivers the events that services published with the nats sink
(MULTITRACK_SINKS=nats) from the JetStream stream into the sinks that
MULTITRACK_SINKS configures here (PostHog, file, stdout, …; not nats). Any
number of relays share the durable consumer MULTITRACK_RELAY_CONSUMER and the
work. A message is acknowledged once the sinks have delivered its event; a
failed delivery is retried with backoff, and after MULTITRACK_RELAY_MAX_DELIVER
deliveries the event goes to MULTITRACK_DEAD_LETTER_PATH. Events keep their
UUIDs and timestamps and are not sampled again unless MULTITRACK_SAMPLE is set.
SIGTERM or Ctrl-C stops fetching, finishes the batch in flight and exits 0.

One machine:
	multitrack relay --embed                            # terminal 1
	MULTITRACK_SINKS=nats multitrack demo               # terminal 2

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *relayCommand) Run(ctx context.Context, args []string) (err error) {
	if err := parseFlags(c.flags(), args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	if c.shutdown <= 0 || c.progress < 0 {
		return usageErrorf("relay: --shutdown-timeout must be positive and --progress not negative")
	}
	env := c.main.env()
	settings, err := env.Relay()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	stderr := c.main.Stderr
	if c.embed {
		srv, err := embedded.Start(embedded.Config{URL: settings.NATS.URL, StoreDir: c.store, Token: settings.NATS.Token})
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		defer srv.Close()
		fmt.Fprintf(stderr, "relay: embedded JetStream server at %s, storing in %s\n", srv.ClientURL(), c.store)
	}
	nc, err := settings.NATS.Connect()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	opts := []relay.Option{
		relay.WithConsumer(settings.Consumer),
		relay.WithMaxDeliver(settings.MaxDeliver),
		relay.WithDeadLetter(settings.DeadLetter),
		relay.WithShutdownTimeout(c.shutdown),
		relay.WithLogger(zerolog.New(stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger()),
	}
	if c.progress > 0 {
		opts = append(opts, relay.WithProgress(stderr, c.progress))
	}
	r, err := relay.New(js, settings.NATS, env.Tracker, opts...)
	if err != nil {
		return err
	}
	ms, err := startMetrics(c.metrics, r.Tracker(), map[string]http.Handler{"/healthz": healthHandler(r)},
		metrics.NewStatsCollector("relay", func() any { return r.Stats() }, "Lag"))
	if err != nil {
		r.Close(context.Background())
		return err
	}
	if ms != nil {
		fmt.Fprintln(stderr, "relay: metrics at", ms.URL())
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err = errors.Join(err, ms.Close(sctx))
		}()
	}
	fmt.Fprintf(stderr, "relay: consumer %s on stream %s at %s\n", settings.Consumer, settings.NATS.StreamName(), settings.NATS.ServerURLs())
	if err := r.Run(ctx); err != nil {
		return err
	}
	if c.progress == 0 {
		fmt.Fprintf(stderr, "relay: %v\n", r.Stats())
	}
	return nil
}

// healthHandler answers 200 while the relay is connected and fetching, 503
// with the reason otherwise.
func healthHandler(r *relay.Relay) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := r.Healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}
