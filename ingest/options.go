package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of a Server.
const (
	// DefaultMaxBodyBytes bounds a request's body as sent (compressed).
	DefaultMaxBodyBytes = 20 << 20
	// DefaultMaxDecodedBytes bounds a request's JSON once decompressed: a
	// gzip bomb is refused (413) after this many bytes.
	DefaultMaxDecodedBytes = 20 << 20
	// DefaultMaxEvents bounds the events of one request (413, so that
	// posthog-node halves its batch and tries again).
	DefaultMaxEvents = 5000
	// DefaultAckTimeout bounds how long a request waits for its events'
	// delivery under AckDelivered before it is answered 503.
	DefaultAckTimeout = 10 * time.Second
	// DefaultReadHeaderTimeout, DefaultReadTimeout and DefaultIdleTimeout
	// are Serve's HTTP timeouts; its write timeout is the read timeout plus
	// the ack timeout.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	// DefaultDrainTimeout bounds how long Serve waits for requests in
	// flight when its context ends.
	DefaultDrainTimeout = 20 * time.Second
)

// Option configures a Server.
type Option func(*config)

type config struct {
	keys              []string
	anyKey            bool
	rate              Rate
	maxBody           int64
	maxDecoded        int64
	maxEvents         int
	acks              *Acks
	ackTimeout        time.Duration
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	idleTimeout       time.Duration
	drainTimeout      time.Duration
	log               zerolog.Logger
	now               func() time.Time
	errs              []error
}

func defaultConfig() config {
	return config{
		maxBody:           DefaultMaxBodyBytes,
		maxDecoded:        DefaultMaxDecodedBytes,
		maxEvents:         DefaultMaxEvents,
		ackTimeout:        DefaultAckTimeout,
		readHeaderTimeout: DefaultReadHeaderTimeout,
		readTimeout:       DefaultReadTimeout,
		idleTimeout:       DefaultIdleTimeout,
		drainTimeout:      DefaultDrainTimeout,
		log:               zerolog.Nop(),
		now:               time.Now,
	}
}

// WithAPIKeys sets the project API keys accepted; a request with another
// key, or none, is answered 401. New fails without keys unless WithAnyAPIKey
// is given.
func WithAPIKeys(keys ...string) Option {
	return func(c *config) {
		for _, k := range keys {
			if k == "" {
				c.errs = append(c.errs, errors.New("empty API key"))
				continue
			}
			c.keys = append(c.keys, k)
		}
	}
}

// WithAnyAPIKey accepts any project key (a request must still name one).
// Anyone who can reach the server can then send events: for local use.
func WithAnyAPIKey() Option { return func(c *config) { c.anyKey = true } }

// WithRateLimit limits the events each project key may send (429 with
// Retry-After past it). The zero Rate is no limit, the default.
func WithRateLimit(r Rate) Option { return func(c *config) { c.rate = r } }

// WithMaxBodyBytes bounds a request's body as sent (default
// DefaultMaxBodyBytes).
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBody = n }
}

// WithMaxDecodedBytes bounds a request's payload once decompressed (default
// DefaultMaxDecodedBytes).
func WithMaxDecodedBytes(n int64) Option {
	return func(c *config) { c.maxDecoded = n }
}

// WithMaxEvents bounds the events of one request (default DefaultMaxEvents).
func WithMaxEvents(n int) Option { return func(c *config) { c.maxEvents = n } }

// WithDeliveredAck answers a request only once its events are delivered:
// 200 when every sink delivered every event, 503 (which PostHog's SDKs
// retry) when one did not, or when the tracker's Flush did not return
// within WithAckTimeout. acks must be the tracker's undelivered hook
// (tracker.WithUndeliveredHook(acks.Undelivered)). Without this option a
// request is answered as soon as its events are captured (AckQueued).
func WithDeliveredAck(acks *Acks) Option {
	return func(c *config) {
		if acks == nil {
			c.errs = append(c.errs, errors.New("WithDeliveredAck: nil Acks"))
		}
		c.acks = acks
	}
}

// WithAckTimeout bounds the wait for delivery under WithDeliveredAck
// (default DefaultAckTimeout).
func WithAckTimeout(d time.Duration) Option { return func(c *config) { c.ackTimeout = d } }

// WithTimeouts sets Serve's HTTP timeouts: reading a request's headers,
// reading a whole request, and keeping an idle connection (defaults
// DefaultReadHeaderTimeout, DefaultReadTimeout, DefaultIdleTimeout). The
// write timeout is the read timeout plus the ack timeout.
func WithTimeouts(readHeader, read, idle time.Duration) Option {
	return func(c *config) { c.readHeaderTimeout, c.readTimeout, c.idleTimeout = readHeader, read, idle }
}

// WithDrainTimeout bounds how long Serve waits for requests in flight once
// its context ends (default DefaultDrainTimeout).
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drainTimeout = d } }

// WithLogger sets where the server reports what it refuses and why (never
// with an API key or a property value). The default is silent.
func WithLogger(l zerolog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock used for clock-skew correction and rate limits
// (for tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

func (c *config) validate() error {
	errs := c.errs
	if len(c.keys) == 0 && !c.anyKey {
		errs = append(errs, errors.New("no API keys: set the accepted project keys (MULTITRACK_SERVE_API_KEYS), or accept any with --insecure-any-key"))
	}
	if c.maxBody <= 0 || c.maxDecoded <= 0 || c.maxEvents <= 0 {
		errs = append(errs, fmt.Errorf("limits must be positive: body %d, decoded %d, events %d", c.maxBody, c.maxDecoded, c.maxEvents))
	}
	if c.ackTimeout <= 0 || c.readHeaderTimeout <= 0 || c.readTimeout <= 0 || c.idleTimeout <= 0 || c.drainTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if c.now == nil {
		errs = append(errs, errors.New("WithClock: nil clock"))
	}
	return errors.Join(errs...)
}
