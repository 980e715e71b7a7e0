package posthog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

// ErrClosed is returned by Write, Flush, GroupIdentify and Close after Close.
var ErrClosed = errors.New("posthog: sink closed")

// enqueuer is the part of posthog-go's client Write uses (tests wrap it).
type enqueuer interface {
	Enqueue(ph.Message) error
}

// Sink sends events to PostHog with posthog-go as the engine (messages,
// batching, wire format) and its own delivery control: Flush sends at once,
// failed attempts are retried by the sink, and Close retries until just
// before its deadline. Create it with New and register it with
// tracker.WithSink; see the package comment.
type Sink struct {
	key     string
	cfg     config
	rt      *transport      // every request goes through it
	ownedRT *http.Transport // closed in Close; nil with WithTransport
	log     zlogger         // the logger given to posthog-go
	groups  *groupIdentifier
	ledger  *ledger
	retry   *retrier
	report  atomic.Pointer[tracker.UndeliveredFunc]
	stats   counters
	wrap    func(enqueuer) enqueuer // tests: in front of each client

	mu       sync.RWMutex
	gen      *generation // takes Writes; nil once Close has begun
	relMu    sync.Mutex
	sending  sync.WaitGroup     // clients handed over, still sending (see release)
	unwaited bool               // Close no longer waits for sending (guarded by relMu)
	letGo    context.Context    // ends when Close stops waiting for posthog-go's clients
	cancel   context.CancelFunc // ends letGo

	closing atomic.Bool  // Close has begun
	closed  atomic.Bool  // Close has reported everything: later reports are ignored
	fence   sync.RWMutex // read-held while reporting; Close takes it to fence
	atClose struct {     // given up on while Close runs: Close reports them
		sync.Mutex
		events  []tracker.Event
		reasons []error
	}
}

// New returns a Sink that sends to the PostHog project of apiKey. The key is
// required; it is never logged nor put in an error. Every invalid option is
// reported at once, each naming the option.
func New(apiKey string, opts ...Option) (*Sink, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	var errs []error
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		errs = append(errs, errors.New("posthog: empty API key (POSTHOG_API_KEY)"))
	}
	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s := &Sink{key: apiKey, cfg: cfg, ledger: newLedger(), log: newLogger(cfg.log, apiKey)}
	next := cfg.transport
	if !cfg.transportSet {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = ph.DefaultIdleConns
		t.MaxIdleConnsPerHost = ph.DefaultIdleConnsPerHost
		s.ownedRT, next = t, t
	}
	s.rt = newTransport(next)
	s.letGo, s.cancel = context.WithCancel(context.Background())
	if len(cfg.groupProps) > 0 {
		s.groups = newGroupIdentifier(cfg.groupProps, DefaultGroupCacheSize)
	}
	gen, err := s.newGeneration()
	if err != nil {
		// posthog-go's ConfigError names a field and value, never the key.
		s.cancel()
		s.closeTransport()
		return nil, fmt.Errorf("posthog: %w", err)
	}
	s.gen = gen
	policy := retryPolicy{maxRetries: cfg.maxRetries, backoff: ph.NewBackoff(cfg.backoff, 2, 0, cfg.backoffMax)}
	s.retry = newRetrier(policy, s.ledger, s.resend, s.giveUp, s.log.Logf, s.rt.heldUntil)
	go s.retry.run()
	return s, nil
}

// SetUndelivered implements tracker.UndeliveredReporter. Every event the sink
// accepted in Write and gives up on is passed to f: refused by posthog-go,
// rejected by PostHog (a 4xx answer), still failing after its retries, or not
// delivered when Close's deadline came. Without it, such events are counted
// in Stats, and named in Write's error or Close's.
func (s *Sink) SetUndelivered(f tracker.UndeliveredFunc) {
	s.report.Store(&f)
}

// undelivered returns the UndeliveredFunc, or nil.
func (s *Sink) undelivered() tracker.UndeliveredFunc {
	if f := s.report.Load(); f != nil {
		return *f
	}
	return nil
}

// Write hands each event to posthog-go, which encodes it at once and sends
// it with its batch; Write never waits for the network. posthog-go is given
// copies of the event's maps, never the event's own.
//
// If ctx is already done, nothing is sent and Write returns ctx's error.
// Otherwise every event is either handed over, and tracked until it is
// delivered or given up on, or refused: by posthog-go (an invalid event, a
// property value whose MarshalJSON panics: that event only; a full queue
// twice over), or because ctx ended part way. Refused events go to the
// UndeliveredFunc when one is set, and Write returns nil. Without one, Write
// returns an error counting them when it refused the whole batch, and logs
// them when it handed part of it over. Stats counts them either way.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closing.Load() {
		return ErrClosed
	}
	// Track every event before handing it over: posthog-go may report on it
	// before Enqueue returns.
	sent := make([]string, len(events))
	kept := make([]pending, len(events))
	for i := range events {
		// The UUID sent: the event's own in canonical form, a UUIDv5 of it
		// when it is not a UUID, a new UUIDv7 when it is empty.
		sent[i], kept[i].ev = uuidv7.Canonical(events[i].UUID), retained(events[i])
		if kept[i].ev.UUID == "" {
			// Reported undelivered, it keeps the UUID it was sent with, so
			// that a replay is deduplicated against what PostHog got.
			kept[i].ev.UUID = sent[i]
		}
	}

	refused, err := s.enqueueAll(ctx, sent, kept, events)
	if err != nil {
		return err
	}
	if len(refused.uuids) == 0 {
		return nil
	}
	return s.refuse(&refused, len(events))
}

// capture maps an event to posthog-go's Capture. props is the sink's own
// copy of the event's properties (the one it keeps for the dead letter):
// posthog-go copies it before adding its own (TestEnqueueLeavesPropertiesAlone
// pins that), so one copy serves both.
func capture(e *tracker.Event, props map[string]any, u string) ph.Capture {
	c := ph.Capture{
		Uuid:       u,
		DistinctId: e.DistinctID,
		Event:      e.Name,
		Timestamp:  e.Timestamp,
		Properties: props,
	}
	if len(e.Groups) > 0 {
		c.Groups = make(ph.Groups, len(e.Groups))
		for k, v := range e.Groups {
			c.Groups[k] = v
		}
	}
	return c
}

// retained is the copy of an event the sink keeps until it is delivered or
// given up on: the caller's maps are not kept past Write.
func retained(e tracker.Event) tracker.Event {
	if e.Properties != nil {
		p := make(map[string]any, len(e.Properties))
		for k, v := range e.Properties {
			p[k] = v
		}
		e.Properties = p
	}
	if e.Groups != nil {
		g := make(map[string]string, len(e.Groups))
		for k, v := range e.Groups {
			g[k] = v
		}
		e.Groups = g
	}
	return e
}

var (
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Flusher             = (*Sink)(nil)
)

var _ tracker.Sink = (*Sink)(nil)
