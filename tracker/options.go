package tracker

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for a Tracker and its sinks.
const (
	// DefaultQueueSize is the number of events each sink's queue holds.
	DefaultQueueSize = 8192
	// DefaultBatchSize is the most events a sink's Write receives at once;
	// a worker is woken early when this many are queued.
	DefaultBatchSize = 256
	// DefaultFlushInterval is how long an event may wait in a sink's queue
	// before the worker wakes by itself.
	DefaultFlushInterval = 250 * time.Millisecond
	// DefaultBlockTimeout bounds how long Capture waits for room in a queue
	// under the Block overflow policy.
	DefaultBlockTimeout = 10 * time.Millisecond
	// DefaultMaxEventSize is the largest event accepted, in bytes of its
	// approximate JSON encoding.
	DefaultMaxEventSize = 32 << 10
	// DefaultFallbackDistinctID is the distinct id of an event that has
	// neither a DistinctID nor an organization.
	DefaultFallbackDistinctID = "standalone"
)

// Overflow says what Capture does when a sink's queue is full.
type Overflow uint8

const (
	// DropNewest drops the event being captured (the default).
	DropNewest Overflow = iota
	// DropOldest evicts the oldest queued event to make room.
	DropOldest
	// Block waits for room, at most the block timeout, then drops the event.
	Block
)

// String returns the policy's name as MULTITRACK_OVERFLOW spells it.
func (o Overflow) String() string {
	switch o {
	case DropNewest:
		return "drop_newest"
	case DropOldest:
		return "drop_oldest"
	case Block:
		return "block"
	}
	return fmt.Sprintf("Overflow(%d)", uint8(o))
}

// ParseOverflow parses "drop_newest", "drop_oldest" or "block".
func ParseOverflow(s string) (Overflow, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "drop_newest", "":
		return DropNewest, nil
	case "drop_oldest":
		return DropOldest, nil
	case "block":
		return Block, nil
	}
	return 0, fmt.Errorf("unknown overflow policy %q: want drop_newest, drop_oldest or block", s)
}

// Option configures a Tracker.
type Option func(*config)

// SinkOption configures one sink's queue and worker.
type SinkOption func(*sinkConfig)

type config struct {
	sinks        []sinkSpec
	sampler      Sampler
	logger       zerolog.Logger
	properties   map[string]any
	redact       []string
	redactSet    bool
	fallbackID   string
	maxEventSize int
	deadLetter   string
	hook         func(sink string, events []Event, reason error)
	plan         PlanChecker
	planMode     PlanMode
	errs         []error
}

type sinkSpec struct {
	name string
	sink Sink
	cfg  sinkConfig
}

type sinkConfig struct {
	queueSize     int
	batchSize     int
	flushInterval time.Duration
	overflow      Overflow
	blockTimeout  time.Duration
	writeTimeout  time.Duration
	sampler       Sampler
}

// WithSink adds a sink under a name that is unique within the tracker (it
// names the sink in Stats, errors and the dead-letter file).
func WithSink(name string, s Sink, opts ...SinkOption) Option {
	return func(c *config) {
		sc := sinkConfig{
			queueSize:     DefaultQueueSize,
			batchSize:     DefaultBatchSize,
			flushInterval: DefaultFlushInterval,
			blockTimeout:  DefaultBlockTimeout,
		}
		for _, o := range opts {
			o(&sc)
		}
		c.sinks = append(c.sinks, sinkSpec{name: name, sink: s, cfg: sc})
	}
}

// WithSampler sets the sampler every event goes through before fan-out.
// The default, and WithSampler(nil), keeps every event.
func WithSampler(s Sampler) Option { return func(c *config) { c.sampler = s } }

// WithLogger sets the logger for the tracker's own diagnostics (rejected
// events, sink errors and panics, shutdown). The default is silent. Property
// values are never logged.
func WithLogger(l zerolog.Logger) Option { return func(c *config) { c.logger = l } }

// WithProperties sets default properties added to every event (service
// name, version, region, …). A property the event sets itself wins. The map
// is copied.
func WithProperties(props map[string]any) Option {
	return func(c *config) {
		if c.properties == nil {
			c.properties = make(map[string]any, len(props))
		}
		maps.Copy(c.properties, props)
	}
}

// WithRedactedKeys replaces the list of words that mark a property key as
// secret (DefaultRedactedKeys). A key is removed before fan-out when one of
// the words appears in it as a whole word, case-insensitively, with words
// split at '_', '-', '.', spaces and camelCase: "password" removes
// "db_password" and "userPassword", "api_key" removes "stripe_api_key" and
// "apiKey", "sql" removes "raw_sql" but not "sqlstate".
func WithRedactedKeys(words ...string) Option {
	return func(c *config) {
		c.redact = append([]string(nil), words...)
		c.redactSet = true
	}
}

// WithFallbackDistinctID sets the distinct id of events that have neither a
// DistinctID nor an organization (default "standalone").
func WithFallbackDistinctID(id string) Option {
	return func(c *config) {
		if id == "" {
			c.errs = append(c.errs, errors.New("fallback distinct id is empty"))
			return
		}
		c.fallbackID = id
	}
}

// WithMaxEventSize sets the largest accepted event, in bytes of its
// approximate JSON encoding (default DefaultMaxEventSize).
func WithMaxEventSize(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("max event size %d: must be positive", n))
			return
		}
		c.maxEventSize = n
	}
}

// WithDeadLetter names a file where events that could not be delivered are
// appended as event lines, each with the sink's name in the property
// "$multitrack_sink", so that they can be replayed. New creates the file,
// with mode 0600 (its directory 0700), and fails if it cannot.
func WithDeadLetter(path string) Option { return func(c *config) { c.deadLetter = path } }

// WithUndeliveredHook calls f for every event a sink did not deliver — a failed or overrunning
// Write, events the sink reported undelivered (UndeliveredReporter), drops from a full queue,
// events refused after Close or left at Close's deadline — with the sink's name and the reason,
// before the events are dead-lettered (when a dead letter is configured).
// f may run on the sink's worker or on Capture's caller; it must be fast and must not keep the slice.
//
// Reasons for queue drops match ErrQueueFull; for events refused after
// Close or left at its deadline, ErrClosed (and the context's error). With
// Flush, a caller knows which of its events were not delivered: when Flush
// returns, every report for the events captured before it has been made
// (for a sink that reports after Write, when its Flush waits for that).
func WithUndeliveredHook(f func(sink string, events []Event, reason error)) Option {
	return func(c *config) { c.hook = f }
}

// WithQueueSize sets how many events the sink's queue holds (default
// DefaultQueueSize).
func WithQueueSize(n int) SinkOption { return func(c *sinkConfig) { c.queueSize = n } }

// WithBatchSize sets the most events one Write receives (default
// DefaultBatchSize).
func WithBatchSize(n int) SinkOption { return func(c *sinkConfig) { c.batchSize = n } }

// WithFlushInterval sets how often the sink's worker wakes by itself to write
// what is queued (default DefaultFlushInterval).
func WithFlushInterval(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.flushInterval = d }
}

// WithOverflow sets what happens when the sink's queue is full (default
// DropNewest).
func WithOverflow(o Overflow) SinkOption { return func(c *sinkConfig) { c.overflow = o } }

// WithBlockTimeout bounds the wait for room under the Block policy (default
// DefaultBlockTimeout).
func WithBlockTimeout(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.blockTimeout = d }
}

// WithWriteTimeout bounds each Write and Flush of the sink through its
// context (default: no bound but Close's deadline).
func WithWriteTimeout(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.writeTimeout = d }
}

// WithSinkSampler adds a sampler for this sink only, applied after the
// tracker's. A kept event's "$sample_rate" is the product of both rates.
func WithSinkSampler(s Sampler) SinkOption { return func(c *sinkConfig) { c.sampler = s } }

func (c *config) validate() error {
	errs := c.errs
	seen := make(map[string]bool, len(c.sinks))
	for i, s := range c.sinks {
		switch {
		case s.name == "":
			errs = append(errs, fmt.Errorf("sink #%d: empty name", i+1))
		case seen[s.name]:
			errs = append(errs, fmt.Errorf("sink %q: added twice", s.name))
		}
		seen[s.name] = true
		if s.sink == nil {
			errs = append(errs, fmt.Errorf("sink %q: nil Sink", s.name))
		}
		if s.cfg.queueSize <= 0 {
			errs = append(errs, fmt.Errorf("sink %q: queue size %d: must be positive", s.name, s.cfg.queueSize))
		}
		if s.cfg.batchSize <= 0 {
			errs = append(errs, fmt.Errorf("sink %q: batch size %d: must be positive", s.name, s.cfg.batchSize))
		}
		if s.cfg.flushInterval <= 0 {
			errs = append(errs, fmt.Errorf("sink %q: flush interval %v: must be positive", s.name, s.cfg.flushInterval))
		}
		if s.cfg.overflow > Block {
			errs = append(errs, fmt.Errorf("sink %q: unknown overflow policy %v", s.name, s.cfg.overflow))
		}
		if s.cfg.blockTimeout < 0 || s.cfg.writeTimeout < 0 {
			errs = append(errs, fmt.Errorf("sink %q: negative timeout", s.name))
		}
	}
	return errors.Join(errs...)
}
