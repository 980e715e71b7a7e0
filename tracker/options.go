package tracker

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/line"
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

// The ranges of the numeric options, ends included: New refuses a value
// outside them with an error naming the option and its range.
const (
	// QueueSizeLimit is the largest WithQueueSize (the smallest is 1): a
	// million events a sink is already gigabytes of memory when it stalls.
	QueueSizeLimit = 1 << 20
	// BatchSizeLimit is the largest WithBatchSize (the smallest is 1).
	BatchSizeLimit = 1 << 16
	// MaxEventSizeLimit is the largest WithMaxEventSize (the smallest is 1):
	// a longer event line could not be read back.
	MaxEventSizeLimit = line.Max
	// FlushIntervalLimit is the longest WithFlushInterval (it must be
	// positive).
	FlushIntervalLimit = time.Hour
	// BlockTimeoutLimit is the longest WithBlockTimeout (0 drops at once):
	// Capture waits at most that long.
	BlockTimeoutLimit = time.Minute
	// WriteTimeoutLimit is the longest WithWriteTimeout (0, the default,
	// bounds a Write by Close's deadline only).
	WriteTimeoutLimit = time.Hour
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
// approximate JSON encoding (default DefaultMaxEventSize; 1 to
// MaxEventSizeLimit).
func WithMaxEventSize(n int) Option {
	return func(c *config) {
		if n < 1 || n > MaxEventSizeLimit {
			c.errs = append(c.errs, fmt.Errorf("max event size %d (WithMaxEventSize): want 1 to %d bytes", n, MaxEventSizeLimit))
			return
		}
		c.maxEventSize = n
	}
}

// WithDeadLetter names a file where events that could not be delivered are
// appended as event lines, each with the sink's name in the property
// "$multitrack_sink", so that they can be replayed: failed writes, what
// Close's deadline left, and events Capture accepted while Close ran after
// a sink's queue had closed. New creates the file, with mode 0600 (its
// directory 0700), and fails if it cannot.
func WithDeadLetter(path string) Option { return func(c *config) { c.deadLetter = path } }

// WithUndeliveredHook calls f for every event a sink did not deliver — a failed or overrunning
// Write, events the sink reported undelivered (UndeliveredReporter), drops from a full queue,
// events refused after Close or left at Close's deadline — with the sink's name and the reason,
// before the events are dead-lettered (when a dead letter is configured); once for each event,
// however the sink's reports and Close's deadline interleave.
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
// DefaultQueueSize; 1 to QueueSizeLimit).
func WithQueueSize(n int) SinkOption { return func(c *sinkConfig) { c.queueSize = n } }

// WithBatchSize sets the most events one Write receives (default
// DefaultBatchSize; 1 to BatchSizeLimit).
func WithBatchSize(n int) SinkOption { return func(c *sinkConfig) { c.batchSize = n } }

// WithFlushInterval sets how often the sink's worker wakes by itself to write
// what is queued (default DefaultFlushInterval; at most FlushIntervalLimit).
func WithFlushInterval(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.flushInterval = d }
}

// WithOverflow sets what happens when the sink's queue is full (default
// DropNewest).
func WithOverflow(o Overflow) SinkOption { return func(c *sinkConfig) { c.overflow = o } }

// WithBlockTimeout bounds the wait for room under the Block policy (default
// DefaultBlockTimeout; 0 to BlockTimeoutLimit).
func WithBlockTimeout(d time.Duration) SinkOption {
	return func(c *sinkConfig) { c.blockTimeout = d }
}

// WithWriteTimeout bounds each Write and Flush of the sink through its
// context (default 0: no bound but Close's deadline; at most
// WriteTimeoutLimit).
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
		errs = append(errs, s.cfg.validate(s.name)...)
	}
	return errors.Join(errs...)
}

// validate checks a sink's options, each against its range.
func (c sinkConfig) validate(sink string) []error {
	var errs []error
	bad := func(what string, v any, option, want string) {
		errs = append(errs, fmt.Errorf("sink %q: %s %v (%s): want %s", sink, what, v, option, want))
	}
	if c.queueSize < 1 || c.queueSize > QueueSizeLimit {
		bad("queue size", c.queueSize, "WithQueueSize", fmt.Sprintf("1 to %d", QueueSizeLimit))
	}
	if c.batchSize < 1 || c.batchSize > BatchSizeLimit {
		bad("batch size", c.batchSize, "WithBatchSize", fmt.Sprintf("1 to %d", BatchSizeLimit))
	}
	if c.flushInterval <= 0 || c.flushInterval > FlushIntervalLimit {
		bad("flush interval", c.flushInterval, "WithFlushInterval", fmt.Sprintf("1ns to %v", FlushIntervalLimit))
	}
	if c.overflow > Block {
		errs = append(errs, fmt.Errorf("sink %q: unknown overflow policy %v", sink, c.overflow))
	}
	if c.blockTimeout < 0 || c.blockTimeout > BlockTimeoutLimit {
		bad("block timeout", c.blockTimeout, "WithBlockTimeout", fmt.Sprintf("0s to %v", BlockTimeoutLimit))
	}
	if c.writeTimeout < 0 || c.writeTimeout > WriteTimeoutLimit {
		bad("write timeout", c.writeTimeout, "WithWriteTimeout", fmt.Sprintf("0s (no bound) to %v", WriteTimeoutLimit))
	}
	return errs
}
