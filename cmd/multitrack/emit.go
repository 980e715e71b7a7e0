package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// emitCommand sends one event through the configured sinks.
type emitCommand struct {
	main *Main

	name, distinctID, org, uuid string
	props                       propertyFlags
	timeout                     time.Duration
}

// propertyFlags collects repeated -p KEY=VALUE flags.
type propertyFlags map[string]any

func (p propertyFlags) String() string { return "" }

func (p propertyFlags) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", kv)
	}
	p[k] = v
	return nil
}

func (c *emitCommand) Run(ctx context.Context, args []string) error {
	c.props = propertyFlags{}
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	fs.StringVar(&c.name, "name", "", "the event's name (required)")
	fs.StringVar(&c.distinctID, "distinct-id", "", "who the event belongs to (default: the organization, else standalone)")
	fs.StringVar(&c.org, "org", "", "the organization (PostHog group) the event belongs to")
	fs.StringVar(&c.uuid, "uuid", "", "the event's UUID (default: a new UUIDv7)")
	fs.Var(c.props, "p", "a property as KEY=VALUE (string value); repeat for more")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for delivery")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack emit -name NAME [flags]

Sends one event through the sinks the environment configures (stdout when none
is), waits for it to be delivered, and exits 1 when it was not: rejected,
sampled out, dropped, or not delivered before -timeout.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	if c.name == "" {
		return usageErrorf("emit: -name is required")
	}
	if c.timeout <= 0 {
		return usageErrorf("emit: -timeout must be positive, got %v", c.timeout)
	}

	tr, err := c.main.newTracker()
	if err != nil {
		return err
	}
	if c.org != "" {
		ctx = tracker.WithOrganization(ctx, c.org)
	}
	tr.Capture(ctx, tracker.Event{Name: c.name, DistinctID: c.distinctID, UUID: c.uuid, Properties: map[string]any(c.props)})
	closeCtx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := tr.Close(closeCtx); err != nil {
		return fmt.Errorf("emit: %w", err)
	}
	if err := notDelivered(tr.Stats()); err != nil {
		return fmt.Errorf("emit: %w", err)
	}
	return nil
}

// notDelivered says why kept events did not reach every sink, or returns
// nil when they all did.
func notDelivered(s tracker.Stats) error {
	switch {
	case s.Rejected.Total() > 0:
		return fmt.Errorf("rejected as invalid: empty name %d, unencodable %d, too large %d", s.Rejected.EmptyName, s.Rejected.Unencodable, s.Rejected.TooLarge)
	case s.SampledOut > 0:
		return fmt.Errorf("%d sampled out (MULTITRACK_SAMPLE)", s.SampledOut)
	case s.Kept == 0:
		return fmt.Errorf("nothing kept")
	case len(s.Sinks) == 0:
		return fmt.Errorf("no sinks are configured (MULTITRACK_SINKS=none)")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Sinks)) {
		ss := s.Sinks[name]
		if got := ss.Delivered - ss.Undelivered; got < s.Kept-ss.SampledOut {
			return fmt.Errorf("sink %q delivered %d of %d (dropped %d, failed %d)", name, got, s.Kept-ss.SampledOut, ss.Dropped.Total(), ss.Failed+ss.Undelivered)
		}
	}
	return nil
}
