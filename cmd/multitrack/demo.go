package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// demoCommand simulates a database service: each organization provisions a
// warehouse, then runs queries, some of which fail.
type demoCommand struct {
	main *Main

	duration time.Duration
	orgs     int
	rate     float64
	failRate float64
	seed     uint64
	metrics  string
}

func (c *demoCommand) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "how long the simulated service runs")
	fs.IntVar(&c.orgs, "orgs", 3, "number of organizations")
	fs.Float64Var(&c.rate, "rate", 4, "queries per second per organization")
	fs.Float64Var(&c.failRate, "fail-rate", 0.15, "fraction of queries that fail")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed for the simulated traffic")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics at `ADDR`/metrics while the demo runs (e.g. 127.0.0.1:9464)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack demo [flags]

Runs a simulated database service for a while: each organization provisions a
warehouse (warehouse_provisioned), then runs queries (query_initiated, and
query_failed with an SQLSTATE for some). Events go to stdout unless sinks are
configured; a summary of the tracker's counters follows on stderr.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func (c *demoCommand) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	switch {
	case c.duration <= 0:
		return usageErrorf("demo: -duration must be positive, got %v", c.duration)
	case c.orgs <= 0 || c.orgs > 10000:
		return usageErrorf("demo: -orgs must be from 1 to 10000, got %d", c.orgs)
	case !(c.rate >= 0.001 && c.rate <= 100000):
		return usageErrorf("demo: -rate must be from 0.001 to 100000 queries a second, got %v", c.rate)
	case !(c.failRate >= 0 && c.failRate <= 1):
		return usageErrorf("demo: -fail-rate must be in [0,1], got %v", c.failRate)
	}

	tr, err := c.main.newTracker(tracker.WithProperties(map[string]any{"service": "demo-db"}))
	if err != nil {
		return err
	}
	ms, err := startMetrics(c.metrics, tr, nil)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(fmt.Errorf("demo: %w", err), tr.Close(closeCtx))
	}
	if ms != nil {
		fmt.Fprintln(c.main.Stderr, "demo: metrics at", ms.URL())
		defer ms.Close(context.Background())
	}
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < c.orgs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.simulateOrg(ctx, tr, fmt.Sprintf("org_%d", 40+i), rand.New(rand.NewPCG(c.seed, uint64(i))))
		}()
	}
	wg.Wait()

	closeCtx, closeCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer closeCancel()
	closeErr := tr.Close(closeCtx)
	c.summary(tr.Stats())
	if closeErr != nil {
		return fmt.Errorf("demo: closing the tracker: %w", closeErr)
	}
	return nil
}

var (
	demoUsers     = []string{"alice", "bob", "carol", "dave"}
	demoFailures  = []struct{ sqlstate, category string }{{"42P01", "undefined_table"}, {"42601", "syntax_error"}, {"57014", "query_canceled"}, {"53100", "disk_full"}}
	demoStatement = []string{"select", "insert", "update", "create_table"}
)

// simulateOrg plays one organization's traffic until ctx ends.
func (c *demoCommand) simulateOrg(ctx context.Context, tr *tracker.Tracker, org string, rng *rand.Rand) {
	ctx = tracker.WithOrganization(ctx, org)
	tr.Capture(ctx, tracker.Event{Name: "warehouse_provisioned", Properties: map[string]any{
		"warehouse": org + "_wh", "size": []string{"small", "medium", "large"}[rng.IntN(3)], "region": "eu-west-1",
	}})
	interval := time.Duration(float64(time.Second) / c.rate)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		traceID := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		user := demoUsers[rng.IntN(len(demoUsers))]
		tr.Capture(ctx, tracker.Event{Name: "query_initiated", Properties: map[string]any{
			"user":           user,
			"trace_id":       traceID,
			"statement_type": demoStatement[rng.IntN(len(demoStatement))],
			// A careless service passes the SQL along: the tracker removes it.
			"query_text": "SELECT * FROM orders WHERE customer = 'secret'",
		}})
		if rng.Float64() < c.failRate {
			f := demoFailures[rng.IntN(len(demoFailures))]
			tr.Capture(ctx, tracker.Event{Name: "query_failed", Properties: map[string]any{
				"user":           user,
				"trace_id":       traceID,
				"sqlstate":       f.sqlstate,
				"error_category": f.category,
				"duration_ms":    rng.IntN(2000),
			}})
		}
	}
}

func (c *demoCommand) summary(s tracker.Stats) {
	w := tabwriter.NewWriter(c.main.Stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\nsummary\tcaptured %d\tkept %d\tsampled out %d\trejected %d\tsecrets removed %d\n",
		s.Captured, s.Kept, s.SampledOut, s.Rejected.Total(), s.Redacted)
	if s.Plan.Total() > 0 { // MULTITRACK_PLAN_PATH: events that break the plan
		fmt.Fprintf(w, "plan\tviolations %d\tstripped %d\trejected %d\n", s.Plan.Total(), s.Stripped, s.Rejected.Plan)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Sinks)) {
		ss := s.Sinks[name]
		// Undelivered events were accepted by Write, then reported lost.
		fmt.Fprintf(w, "sink %s\tdelivered %d\tfailed %d\tdropped %d\tdead-lettered %d\n",
			name, ss.Delivered-ss.Undelivered, ss.Failed+ss.Undelivered, ss.Dropped.Total(), ss.DeadLettered)
	}
	w.Flush()
}

// newTracker builds the tracker the CLI's commands use from the
// environment; with no sinks configured, events go to stdout.
func (m *Main) newTracker(opts ...tracker.Option) (*tracker.Tracker, error) {
	return m.env().Tracker(opts...)
}
