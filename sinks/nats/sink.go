package nats

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/tracker"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("nats sink closed")

// Sink publishes events to a JetStream stream; see the package comment.
// Write is called from one goroutine (the tracker's worker for the sink);
// Stats is safe for concurrent use.
type Sink struct {
	opts   options
	nc     *natsgo.Conn // opts.conn, or the connection New opened (closed by Close)
	js     jetstream.JetStream
	prefix string // Subject + "."

	subjects map[string]string // event name -> subject, bounded

	undelivered tracker.UndeliveredFunc
	closed      atomic.Bool

	published, duplicates, retried, failed atomic.Uint64
}

// Stats are a sink's counters.
type Stats struct {
	Published  uint64 // events JetStream stored
	Duplicates uint64 // events JetStream acknowledged as duplicates of stored ones (same UUID)
	Retried    uint64 // publishes repeated after a missing ack or an error
	Failed     uint64 // events given up on: reported undelivered or failed in Write
}

// New connects to the servers of the Config (WithConfig), or uses the
// connection given WithConn, and makes sure the stream exists. An
// unreachable server, or a stream whose subjects do not take the sink's,
// is an error.
func New(opts ...Option) (*Sink, error) {
	o := options{
		maxInFlight:  DefaultMaxInFlight,
		ackTimeout:   DefaultAckTimeout,
		retryTimeout: DefaultRetryTimeout,
		log:          zerolog.Nop(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("nats sink: %w", err)
	}
	if err := o.cfg.check(); err != nil {
		return nil, fmt.Errorf("nats sink: %w", err)
	}
	s := &Sink{opts: o, nc: o.conn, prefix: o.cfg.subject() + ".", subjects: make(map[string]string)}
	if s.nc == nil {
		nc, err := o.cfg.Connect(connectionLogging(o.log)...)
		if err != nil {
			return nil, err
		}
		s.nc = nc
	}
	js, err := jetstream.New(s.nc,
		jetstream.WithPublishAsyncMaxPending(o.maxInFlight),
		jetstream.WithPublishAsyncTimeout(o.ackTimeout),
	)
	if err == nil {
		_, err = o.cfg.EnsureStream(context.Background(), js)
	}
	if err != nil {
		if o.conn == nil {
			s.nc.Close()
		}
		return nil, err
	}
	s.js = js
	return s, nil
}

// connectionLogging returns the connection handlers that log to l.
func connectionLogging(l zerolog.Logger) []natsgo.Option {
	return []natsgo.Option{
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			if err != nil {
				l.Warn().Err(err).Msg("multitrack: nats: disconnected; reconnecting")
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			l.Info().Str("server", RedactURL(nc.ConnectedUrl())).Msg("multitrack: nats: reconnected")
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			l.Warn().Err(err).Msg("multitrack: nats: asynchronous error")
		}),
	}
}

// SetUndelivered implements tracker.UndeliveredReporter: events still
// without an ack when Write gives up are reported to f.
func (s *Sink) SetUndelivered(f tracker.UndeliveredFunc) { s.undelivered = f }

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Published:  s.published.Load(),
		Duplicates: s.duplicates.Load(),
		Retried:    s.retried.Load(),
		Failed:     s.failed.Load(),
	}
}

// maxSubjects bounds the cache of subjects by event name.
const maxSubjects = 4096

// subjectFor returns the subject of an event named name.
func (s *Sink) subjectFor(name string) string {
	if subj, ok := s.subjects[name]; ok {
		return subj
	}
	subj := s.prefix + SubjectToken(name)
	if len(s.subjects) < maxSubjects {
		s.subjects[name] = subj
	}
	return subj
}

// SubjectToken returns an event name as one subject token: characters that
// NATS reserves ('.', '*', '>') or that cannot appear in a subject (white
// space, control characters) become '_'. The event line keeps the real
// name.
func SubjectToken(name string) string {
	clean := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f || c == '.' || c == '*' || c == '>' {
			clean = false
			break
		}
	}
	if clean && name != "" {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		if c <= ' ' || c == 0x7f || c == '.' || c == '*' || c == '>' {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// Write publishes the batch and returns once JetStream has acknowledged
// every event, retrying those it has not (a lost ack, a reconnect, a
// leader election) until the retry timeout or ctx ends. Events still
// without an ack then are reported undelivered; when none of the batch was
// acknowledged, Write returns the error instead.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if s.closed.Load() {
		return ErrClosed
	}
	msgs := make([]*natsgo.Msg, 0, len(events))
	idx := make([]int, 0, len(events)) // msgs[j] is events[idx[j]]
	var bad []tracker.Event
	var badErr error
	// Each message's data is its line in buf, capped (buf[start:end:end]):
	// it stays valid while nats.go may send it again, through retries and
	// reconnects, as buf is this Write's own and a line, once written, is
	// never written over; when buf grows, earlier lines keep the old array.
	var buf []byte
	for i := range events {
		start := len(buf)
		var err error
		if buf, err = eventline.Append(buf, &events[i]); err != nil {
			bad, badErr = append(bad, events[i]), err
			continue
		}
		end := len(buf)
		msgs = append(msgs, &natsgo.Msg{
			Subject: s.subjectFor(events[i].Name),
			Data:    buf[start:end:end],
			Header:  natsgo.Header{jetstream.MsgIDHeader: []string{events[i].UUID}},
		})
		idx = append(idx, i)
	}

	pending := make([]int, len(msgs)) // positions in msgs still without an ack
	for j := range pending {
		pending[j] = j
	}
	lastErr := s.publishWithRetries(ctx, msgs, &pending)

	lost := bad
	for _, j := range pending {
		lost = append(lost, events[idx[j]])
	}
	if len(lost) == 0 {
		return nil
	}
	s.failed.Add(uint64(len(lost)))
	reason := lastErr
	if len(bad) > 0 {
		reason = errors.Join(lastErr, fmt.Errorf("%d %s could not be encoded: %w", len(bad), plural.Of(len(bad), "event", "events"), badErr))
	}
	reason = fmt.Errorf("nats sink: %d of %d %s not acknowledged by stream %s: %w", len(lost), len(events), plural.Of(len(events), "event", "events"), s.opts.cfg.stream(), reason)
	if len(lost) == len(events) || s.undelivered == nil {
		return reason
	}
	s.undelivered(lost, reason)
	return nil
}

// publishWithRetries publishes msgs[pending...] until every one has an
// ack, the retry timeout passes or ctx ends; pending is left with those
// without an ack, and the last error is returned.
func (s *Sink) publishWithRetries(ctx context.Context, msgs []*natsgo.Msg, pending *[]int) error {
	deadline := time.Now().Add(s.opts.retryTimeout)
	backoff := 50 * time.Millisecond
	var lastErr error
	for attempt := 0; len(*pending) > 0; attempt++ {
		if attempt > 0 {
			s.retried.Add(uint64(len(*pending)))
			s.opts.log.Debug().Int("events", len(*pending)).Err(lastErr).Msg("multitrack: nats: publishing again")
		}
		if err := s.publish(ctx, msgs, pending); err != nil {
			lastErr = err
		}
		if len(*pending) == 0 {
			return nil
		}
		wait := min(backoff, time.Until(deadline))
		if ctx.Err() != nil || wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, time.Second)
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	if ce := ctx.Err(); ce != nil && !errors.Is(lastErr, ce) {
		lastErr = errors.Join(lastErr, ce)
	}
	return lastErr
}

// publish sends msgs[pending...] in windows of at most max-in-flight and
// waits for their acks; it leaves in pending those that failed.
func (s *Sink) publish(ctx context.Context, msgs []*natsgo.Msg, pending *[]int) error {
	var lastErr error
	failed := (*pending)[:0:0]
	futures := make([]jetstream.PubAckFuture, 0, min(len(*pending), s.opts.maxInFlight))
	todo := *pending
	for len(todo) > 0 {
		n := min(len(todo), s.opts.maxInFlight)
		window := todo[:n]
		todo = todo[n:]
		futures = futures[:0]
		for _, j := range window {
			if ctx.Err() != nil {
				futures = append(futures, nil)
				continue
			}
			f, err := s.js.PublishMsgAsync(msgs[j])
			if err != nil {
				lastErr = err
			}
			futures = append(futures, f)
		}
		for k, f := range futures {
			if f == nil {
				failed = append(failed, window[k])
				continue
			}
			select {
			case ack := <-f.Ok():
				if ack.Duplicate {
					s.duplicates.Add(1)
				} else {
					s.published.Add(1)
				}
			case err := <-f.Err():
				lastErr = err
				failed = append(failed, window[k])
			case <-ctx.Done():
				lastErr = ctx.Err()
				failed = append(failed, window[k])
			}
		}
	}
	*pending = failed
	return lastErr
}

// Close releases the connection the sink opened (one given WithConn stays
// open). Write has waited for every ack, so nothing is buffered.
func (s *Sink) Close(context.Context) error {
	if s.closed.CompareAndSwap(false, true) && s.opts.conn == nil {
		s.nc.Close()
	}
	return nil
}

var (
	_ tracker.Sink                = (*Sink)(nil)
	_ tracker.UndeliveredReporter = (*Sink)(nil)
)
