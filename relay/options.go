package relay

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
)

// Defaults, as the registry documents them for MULTITRACK_RELAY_CONSUMER
// and MULTITRACK_RELAY_MAX_DELIVER, and the relay's other settings.
const (
	DefaultConsumer        = "multitrack-relay"
	DefaultMaxDeliver      = 10
	DefaultBatchSize       = 256
	DefaultFetchWait       = time.Second
	DefaultAckWait         = 30 * time.Second
	DefaultBackoff         = time.Second
	DefaultMaxBackoff      = time.Minute
	DefaultShutdownTimeout = 10 * time.Second
)

// Option configures a Relay.
type Option func(*config)

type config struct {
	consumer        string
	maxDeliver      int
	batchSize       int
	fetchWait       time.Duration
	ackWait         time.Duration
	backoff         time.Duration
	maxBackoff      time.Duration
	shutdownTimeout time.Duration
	deadLetter      string
	log             zerolog.Logger
	progress        io.Writer
	progressEvery   time.Duration
}

func defaults() config {
	return config{
		consumer:        DefaultConsumer,
		maxDeliver:      DefaultMaxDeliver,
		batchSize:       DefaultBatchSize,
		fetchWait:       DefaultFetchWait,
		ackWait:         DefaultAckWait,
		backoff:         DefaultBackoff,
		maxBackoff:      DefaultMaxBackoff,
		shutdownTimeout: DefaultShutdownTimeout,
		log:             zerolog.Nop(),
	}
}

// WithConsumer names the durable consumer (default DefaultConsumer). Relays
// with the same name share the work.
func WithConsumer(name string) Option { return func(c *config) { c.consumer = name } }

// WithMaxDeliver sets how many times a message is delivered before, failing
// again, it goes to the dead letter and is terminated (default
// DefaultMaxDeliver).
func WithMaxDeliver(n int) Option { return func(c *config) { c.maxDeliver = n } }

// WithBatchSize sets how many messages one fetch asks for (default
// DefaultBatchSize). It should not exceed the tracker's queue size.
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithFetchWait sets how long a fetch waits for messages (default
// DefaultFetchWait); shutdown waits for the fetch under way, at most this.
func WithFetchWait(d time.Duration) Option { return func(c *config) { c.fetchWait = d } }

// WithAckWait sets the consumer's ack wait: a message neither acknowledged
// nor nak'ed that long (its relay died) is redelivered (default
// DefaultAckWait). A relay waiting for its sinks keeps its messages with
// progress signals.
func WithAckWait(d time.Duration) Option { return func(c *config) { c.ackWait = d } }

// WithBackoff sets the redelivery delay after a failed delivery: base,
// doubled with each delivery, at most max (defaults DefaultBackoff and
// DefaultMaxBackoff).
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.backoff, c.maxBackoff = base, max }
}

// WithShutdownTimeout bounds Run's shutdown once its context ends: the last
// fetch, the delivery and acknowledgement of the batch in flight, and the
// tracker's Close (default DefaultShutdownTimeout).
func WithShutdownTimeout(d time.Duration) Option { return func(c *config) { c.shutdownTimeout = d } }

// WithDeadLetter names the file where events that failed their last
// delivery are appended as event lines (mode 0600), each with the sink that
// failed in "$multitrack_sink", for `multitrack replay`. Without one they
// are logged and counted, and lost.
func WithDeadLetter(path string) Option { return func(c *config) { c.deadLetter = path } }

// WithLogger sets the logger for the relay's diagnostics (terminated
// messages with their sequence numbers, fetch errors). Event contents are
// never logged.
func WithLogger(l zerolog.Logger) Option { return func(c *config) { c.log = l } }

// WithProgress writes the relay's counters to w every interval while Run
// runs, and once at its end.
func WithProgress(w io.Writer, every time.Duration) Option {
	return func(c *config) { c.progress, c.progressEvery = w, every }
}

func (c *config) validate() error {
	switch {
	case c.consumer == "":
		return fmt.Errorf("empty consumer name")
	case c.maxDeliver < 1:
		return fmt.Errorf("max deliver %d: must be at least 1", c.maxDeliver)
	case c.batchSize < 1:
		return fmt.Errorf("batch size %d: must be positive", c.batchSize)
	case c.fetchWait <= 0 || c.ackWait <= 0 || c.backoff <= 0 || c.maxBackoff < c.backoff || c.shutdownTimeout <= 0:
		return fmt.Errorf("fetch wait, ack wait, backoff and shutdown timeout must be positive, max backoff at least the backoff")
	case c.progress != nil && c.progressEvery <= 0:
		return fmt.Errorf("progress interval %v: must be positive", c.progressEvery)
	}
	return nil
}

// backoffFor returns the redelivery delay after the n-th delivery failed.
func (c *config) backoffFor(n uint64) time.Duration {
	d := c.backoff
	for i := uint64(1); i < n && d < c.maxBackoff; i++ {
		d *= 2
	}
	return min(d, c.maxBackoff)
}
