package nats

import (
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Defaults of a Sink's publishing.
const (
	// DefaultMaxInFlight bounds the publishes waiting for JetStream's ack.
	DefaultMaxInFlight = 1024
	// DefaultAckTimeout is how long one publish waits for its ack before it
	// is retried.
	DefaultAckTimeout = 5 * time.Second
	// DefaultRetryTimeout is how long Write retries the events of a batch
	// that JetStream has not acknowledged before it reports them
	// undelivered.
	DefaultRetryTimeout = 30 * time.Second
)

// Option configures a Sink.
type Option func(*options)

type options struct {
	cfg          Config
	conn         *natsgo.Conn
	maxInFlight  int
	ackTimeout   time.Duration
	retryTimeout time.Duration
	log          zerolog.Logger
}

// WithConfig sets the servers, the stream and how to create it.
func WithConfig(c Config) Option { return func(o *options) { o.cfg = c } }

// WithConn makes the sink publish on nc, which stays the caller's: Close
// does not close it, and the Config's connection settings are not used.
func WithConn(nc *natsgo.Conn) Option { return func(o *options) { o.conn = nc } }

// WithMaxInFlight bounds the publishes waiting for an ack (default
// DefaultMaxInFlight).
func WithMaxInFlight(n int) Option { return func(o *options) { o.maxInFlight = n } }

// WithAckTimeout sets how long a publish waits for its ack before it is
// retried (default DefaultAckTimeout).
func WithAckTimeout(d time.Duration) Option { return func(o *options) { o.ackTimeout = d } }

// WithRetryTimeout sets how long Write retries unacknowledged events before
// it reports them undelivered (default DefaultRetryTimeout); Write's context
// can end it sooner.
func WithRetryTimeout(d time.Duration) Option { return func(o *options) { o.retryTimeout = d } }

// WithLogger sets the logger for connection events (disconnects,
// reconnects) and retries. Event contents are never logged.
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

func (o *options) validate() error {
	if o.maxInFlight <= 0 {
		return fmt.Errorf("max in flight %d: must be positive", o.maxInFlight)
	}
	if o.ackTimeout <= 0 || o.retryTimeout <= 0 {
		return fmt.Errorf("ack timeout %v and retry timeout %v: must be positive", o.ackTimeout, o.retryTimeout)
	}
	return nil
}
