package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// emitCommand sends one event through the configured sinks.
type emitCommand struct {
	main *Main

	name, distinctID, org, uuid, timestamp string
	props                                  propertyFlags
	timeout                                time.Duration
}

// propertyFlags collects repeated -p KEY=VALUE (a string) and -j KEY=JSON
// flags. A mistake is kept, not returned to the flag package, whose error
// would quote the whole argument: a property value may be a secret.
type propertyFlags struct {
	props map[string]any
	errs  []error
}

// set adds the property in kv; parse turns the text after '=' into the
// value.
func (p *propertyFlags) set(flagName, kv string, parse func(string) (any, error)) error {
	k, v, ok := strings.Cut(kv, "=")
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("-%s: want KEY=VALUE (no '=' in the argument)", flagName)
	case k == "":
		err = fmt.Errorf("-%s: want KEY=VALUE (the key is empty)", flagName)
	default:
		if _, dup := p.props[k]; dup {
			err = fmt.Errorf("-%s: property %q given twice", flagName, k)
		}
	}
	if err == nil {
		var value any
		if value, err = parse(v); err == nil {
			p.props[k] = value
			return nil
		}
		err = fmt.Errorf("-%s %s: %w", flagName, k, err)
	}
	p.errs = append(p.errs, err)
	return nil
}

// parseJSON reads one JSON value; numbers stay exact (json.Number). Its
// errors give a byte offset, never the text.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if end := dec.InputOffset(); err == nil {
		if _, next := dec.Token(); next != io.EOF {
			return nil, fmt.Errorf("want one JSON value, got more after byte %d", end)
		}
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return nil, fmt.Errorf("not JSON: syntax error at byte %d", se.Offset)
	case err != nil:
		return nil, errors.New("not JSON: it ends too soon")
	}
	return v, nil
}

func (c *emitCommand) Run(ctx context.Context, args []string) error {
	c.props = propertyFlags{props: map[string]any{}}
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	fs.StringVar(&c.name, "name", "", "the event's name (required)")
	fs.StringVar(&c.distinctID, "distinct-id", "", "who the event belongs to (default: the organization, else standalone)")
	fs.StringVar(&c.org, "org", "", "the organization (PostHog group) the event belongs to")
	fs.StringVar(&c.uuid, "uuid", "", "the event's UUID (default: a new UUIDv7)")
	fs.StringVar(&c.timestamp, "timestamp", "", "when the event happened, RFC 3339 such as 2026-11-28T10:15:03Z (default: now)")
	fs.Func("p", "a property as KEY=VALUE, the value a string (-p n=3 is \"3\"); repeat for more", func(kv string) error {
		return c.props.set("p", kv, func(v string) (any, error) { return v, nil })
	})
	fs.Func("j", "a property as KEY=JSON, the value typed: -j n=3, -j ok=true, -j tags='[\"a\"]'; repeat for more", func(kv string) error {
		return c.props.set("j", kv, parseJSON)
	})
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
	if len(c.props.errs) > 0 {
		return usageErrorf("emit: %v", errors.Join(c.props.errs...))
	}
	var ts time.Time
	if c.timestamp != "" {
		var err error
		if ts, err = time.Parse(time.RFC3339Nano, c.timestamp); err != nil {
			return usageErrorf("emit: -timestamp %q: want RFC 3339, such as 2026-11-28T10:15:03Z or 2026-11-28T11:15:03.5+01:00", c.timestamp)
		}
	}

	tr, err := c.main.newTracker()
	if err != nil {
		return err
	}
	if c.org != "" {
		ctx = tracker.WithOrganization(ctx, c.org)
	}
	tr.Capture(ctx, tracker.Event{Name: c.name, DistinctID: c.distinctID, UUID: c.uuid, Timestamp: ts, Properties: c.props.props})
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
		r := s.Rejected
		return fmt.Errorf("rejected as invalid: empty name %d, unencodable %d, too large %d, timestamp outside years 0-9999 %d", r.EmptyName, r.Unencodable, r.TooLarge, r.BadTimestamp)
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
