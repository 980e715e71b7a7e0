package posthog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/tracker"
)

// ErrClosed is returned by Write and Close after Close.
var ErrClosed = errors.New("posthog: sink closed")

// ErrUnacknowledged is the reason given for events that posthog-go had
// accepted but had not reported on when Close's deadline ended.
var ErrUnacknowledged = errors.New("posthog: no delivery report before the close deadline")

// closeReportMargin is the most Close keeps of its deadline, after asking
// posthog-go to stop, for the reports of the requests it aborts.
const closeReportMargin = 100 * time.Millisecond

// closeRetryInterval is the longest the close-time client (see Close) holds
// an event before sending it: everything it gets is already late.
const closeRetryInterval = 10 * time.Millisecond

// legacyUUIDSpace is the name space of the UUIDv5 sent for an event whose
// UUID is not a UUID (e.g. "order-1"): PostHog requires one, and the same
// name always gives the same UUID, so deduplication downstream still works.
var legacyUUIDSpace = uuid.MustParse("6f1c3a52-0f6e-4b8e-9d55-3f0a7c2e9b41")

// enqueuer is the part of posthog-go's client Write uses (tests wrap it).
type enqueuer interface {
	Enqueue(ph.Message) error
}

// Sink sends events to PostHog through posthog-go's batching client. Create
// it with New and register it with tracker.WithSink; see the package comment.
type Sink struct {
	client  ph.Client
	enqueue enqueuer
	ownedRT *http.Transport // closed in Close; nil with WithTransport
	groups  *groupIdentifier
	log     zlogger // the logger given to posthog-go

	// newRetryClient creates Close's retry client (nil: no retries). It is
	// created on the first failure worth retrying once Close has started.
	newRetryClient func() (ph.Client, error)
	retryMu        sync.Mutex
	retrying       bool      // Close has started stopping the main client
	retryDone      bool      // Close has taken retry: no new one
	retry          ph.Client // nil until needed

	ledger        *ledger
	reportFn      atomic.Pointer[tracker.UndeliveredFunc]
	failedMu      sync.Mutex
	failedAtClose []failedEvent // reported by Close, in one call per cause
	closing       atomic.Bool
	closed        atomic.Bool
	reporting     sync.RWMutex // read-held by callbacks while they report; Close's fence

	stats counters
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

	s := &Sink{ledger: newLedger(), log: newLogger(cfg.log, apiKey)}
	rt := cfg.transport
	if !cfg.transportSet {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = ph.DefaultIdleConns
		t.MaxIdleConnsPerHost = ph.DefaultIdleConnsPerHost
		s.ownedRT, rt = t, t
	}
	compression := ph.CompressionNone
	if cfg.gzip {
		compression = ph.CompressionGzip
	}
	backoff := ph.NewBackoff(cfg.backoff, 2, 0, cfg.backoffMax)
	phCfg := ph.Config{
		Endpoint:    cfg.trimmedEndpoint(),
		Interval:    cfg.interval,
		BatchSize:   cfg.batchSize,
		MaxRetries:  ph.Ptr(cfg.maxRetries),
		Compression: compression,
		Transport:   rt,
		Logger:      s.log,
		Callback:    callback{s: s, resendAtClose: true},
		RetryAfter: func(attempt int) time.Duration {
			s.stats.retries.Add(1)
			return backoff.Duration(attempt)
		},
	}
	client, err := ph.NewWithConfig(apiKey, phCfg)
	if err != nil {
		// posthog-go's ConfigError names a field and value, never the key.
		s.closeTransport()
		return nil, fmt.Errorf("posthog: %w", err)
	}
	s.client, s.enqueue = client, client
	if cfg.maxRetries > 0 {
		// The batches it gets have had one attempt at least: it makes up to
		// WithMaxRetries more, sooner than the main client's interval.
		rc := phCfg
		rc.Interval = min(cfg.interval, closeRetryInterval)
		rc.MaxRetries = ph.Ptr(cfg.maxRetries - 1)
		rc.Callback = callback{s: s}
		s.newRetryClient = func() (ph.Client, error) { return ph.NewWithConfig(apiKey, rc) }
	}
	if len(cfg.groupProps) > 0 {
		s.groups = newGroupIdentifier(cfg.groupProps, DefaultGroupCacheSize)
	}
	return s, nil
}

// SetUndelivered implements tracker.UndeliveredReporter. Every event the sink
// accepted in Write and gives up on is passed to f: refused by posthog-go's
// queue, reported failed by posthog-go (retries exhausted, a 4xx answer), or
// not reported on when Close's deadline ended. Without it, such events are
// counted in Stats and, for those refused in Write, named in Write's error.
func (s *Sink) SetUndelivered(f tracker.UndeliveredFunc) {
	s.reportFn.Store(&f)
}

// undelivered returns the UndeliveredFunc, or nil.
func (s *Sink) undelivered() tracker.UndeliveredFunc {
	if f := s.reportFn.Load(); f != nil {
		return *f
	}
	return nil
}

// Write hands each event to posthog-go, which batches, compresses and sends
// them from its own goroutines; Write never waits for the network. posthog-go
// is given copies of the event's maps, never the event's own.
//
// If ctx is already done, nothing is sent and Write returns ctx's error: the
// whole batch was not delivered. Otherwise every event is either handed to
// posthog-go, and tracked until posthog-go reports on it, or refused: by
// posthog-go (ErrQueueFull, an invalid event, a property value whose
// MarshalJSON panics: that event only), or because ctx ended part way.
// Refused events go to the UndeliveredFunc when one is set, and Write returns
// nil. Without one, Write returns an error that counts them and wraps each
// cause only when it refused the whole batch (an error means none of the
// batch was delivered); when it handed part of the batch over, it logs the
// count and causes (WithLogger) and returns nil. Stats counts them either way.
func (s *Sink) Write(ctx context.Context, events []tracker.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	// Track every event before handing it over: posthog-go may report on it
	// (an encoding failure) before Enqueue returns.
	sent := make([]string, len(events))
	kept := make([]tracker.Event, len(events))
	for i := range events {
		sent[i], kept[i] = sendUUID(events[i].UUID), retained(events[i])
		if kept[i].UUID == "" {
			// Reported undelivered, it keeps the UUID it was sent with, so
			// that a replay is deduplicated against what PostHog got.
			kept[i].UUID = sent[i]
		}
	}
	s.ledger.add(sent, kept)

	var refused refusals
	done := ctx.Done()
	for i := range events {
		select {
		case <-done: // the rest is not handed over
			for j := i; j < len(events); j++ {
				refused.add(sent[j], ctx.Err())
			}
			return s.refuse(&refused, len(events))
		default:
		}
		e := &events[i]
		if s.groups != nil {
			s.groups.identify(s, e)
		}
		if err := enqueueSafely(s.enqueue, capture(e, kept[i].Properties, sent[i])); err != nil {
			if errors.Is(err, errEncodePanic) {
				err = panickingProperty(kept[i].Properties)
			}
			refused.add(sent[i], err)
		}
	}
	if len(refused.uuids) == 0 {
		return nil
	}
	return s.refuse(&refused, len(events))
}

// errEncodePanic is the cause given for a message whose encoding panicked
// inside posthog-go's Enqueue (a property value's MarshalJSON).
var errEncodePanic = errors.New("encoding panicked")

// enqueueSafely is e.Enqueue(m), with a panic while posthog-go encodes m (a
// property value's MarshalJSON) returned as errEncodePanic: it fails m only.
// posthog-go encodes before it queues, so a message that panicked is not
// queued and not reported on.
func enqueueSafely(e enqueuer, m ph.Message) (err error) {
	defer func() {
		if recover() != nil {
			err = errEncodePanic
		}
	}()
	return e.Enqueue(m)
}

// panickingProperty names the first property, in key order, whose value
// panics or fails when encoded, for the reason of an event whose encoding
// panicked. It never includes the value.
func panickingProperty(props map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if !encodes(props[k]) {
			return fmt.Errorf("property %q: %w", k, errEncodePanic)
		}
	}
	return errEncodePanic
}

// encodes says whether v encodes to JSON without panicking or failing.
func encodes(v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := json.Marshal(v)
	return err == nil
}

// refusals collects the events posthog-go refused in one Write.
type refusals struct {
	uuids []string
	errs  []error
}

func (r *refusals) add(u string, err error) {
	r.uuids = append(r.uuids, u)
	r.errs = append(r.errs, err)
}

// refuse untracks refused events and reports them, grouped by cause: to the
// UndeliveredFunc, or without one in the error returned when the whole batch
// of n events was refused, else in the log.
func (s *Sink) refuse(r *refusals, n int) error {
	type group struct {
		err    error
		events []tracker.Event
	}
	var groups []group
	var seqs []uint64
	defer func() {
		for _, seq := range seqs {
			s.ledger.settle(seq)
		}
	}()
	for i, u := range r.uuids {
		ev, seq, ok := s.ledger.take(u, &s.stats.refused)
		if !ok { // reported already by a Failure callback during Enqueue
			continue
		}
		seqs = append(seqs, seq)
		if errors.Is(r.errs[i], ph.ErrQueueFull) {
			s.stats.queueFull.Add(1)
		}
		if n := len(groups); n > 0 && groups[n-1].err == r.errs[i] {
			groups[n-1].events = append(groups[n-1].events, ev)
		} else {
			groups = append(groups, group{r.errs[i], []tracker.Event{ev}})
		}
	}
	f := s.undelivered()
	var errs []error
	for _, g := range groups {
		reason := fmt.Errorf("posthog: refused by posthog-go: %w", g.err)
		switch {
		case errors.Is(g.err, context.Canceled) || errors.Is(g.err, context.DeadlineExceeded):
			reason = fmt.Errorf("posthog: not handed to posthog-go before Write's context ended: %w", g.err)
		case errors.Is(g.err, errEncodePanic):
			reason = fmt.Errorf("posthog: cannot encode the event: %w", g.err)
		}
		if f != nil {
			f(g.events, reason)
			continue
		}
		errs = append(errs, fmt.Errorf("%d events not delivered: %w", len(g.events), reason))
	}
	err := errors.Join(errs...)
	if err != nil && len(r.uuids) < n {
		// Part of the batch was handed over: an error would say none was.
		s.log.Errorf("posthog: %d events refused and no UndeliveredFunc set: %v", len(r.uuids), err)
		return nil
	}
	return err
}

// Flush implements tracker.Flusher. posthog-go offers no way to send its
// buffer early, so Flush waits until posthog-go has reported on every event
// handed to it before the call (sent, failed, or refused): up to the batching
// interval plus the time to send. If ctx ends first, it returns an error that
// counts the events still waiting and wraps ctx's error.
func (s *Sink) Flush(ctx context.Context) error {
	return s.ledger.wait(ctx)
}

// Close sends what posthog-go buffers and stops it, within ctx's deadline.
//
// posthog-go sends its buffer as soon as it is stopped, but it also gives up
// at once on the batches it was waiting to retry. So Close stops it promptly
// and hands every event posthog-go gives up on because of a retryable
// failure (a 5xx, 408 or 429 answer, a network error) to a second client,
// which retries it with the same backoff, up to WithMaxRetries more attempts,
// until shortly before ctx's deadline (by a tenth of the time left, at most
// 100 ms). Then that client is stopped too: posthog-go aborts its requests
// and reports their events failed; whatever is still not reported on when
// ctx ends is reported undelivered with ErrUnacknowledged. An event rejected
// for good (a 4xx answer) is not sent again, and with WithMaxRetries(0)
// nothing is retried. Close does not wait for posthog-go past ctx's end.
// Events that fail while Close runs are reported when it ends, in one
// UndeliveredFunc call per cause; none is reported after Close returns.
// The error counts the events not delivered and wraps ctx's error when the
// deadline cut delivery short.
func (s *Sink) Close(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}

	undeliveredBefore := s.stats.undelivered()
	closeCtx, cancel := stopEarly(ctx)
	defer cancel()
	s.setRetrying()
	err := stopClient(ctx, closeCtx, s.client) // wraps ctx's error when cut short
	if retry := s.takeRetry(); retry != nil {
		// The main client has reported on every batch; what it gave up on to
		// stop is with retry now. Let it work until closeCtx ends.
		s.ledger.wait(closeCtx)
		if retryErr := stopClient(ctx, closeCtx, retry); retryErr != nil && err == nil {
			err = retryErr
		}
	}
	// Every event accepted in Write is now with posthog-go's goroutines, which
	// report on it shortly after the clients have stopped.
	if waitErr := s.ledger.wait(ctx); waitErr != nil && err == nil {
		err = waitErr
	}

	left := s.ledger.takeAll()
	s.stats.unacknowledged.Add(uint64(len(left)))
	// Fence: wait for callbacks reporting right now, and stop later ones.
	s.closed.Store(true)
	s.reporting.Lock()
	//lint:ignore SA2001 an empty critical section is the fence
	s.reporting.Unlock()
	f := s.undelivered()
	s.reportFailedAtClose(f)
	if f != nil && len(left) > 0 {
		f(left, ErrUnacknowledged)
	}
	s.closeTransport()

	if n := s.stats.undelivered() - undeliveredBefore; n > 0 {
		if err != nil {
			return fmt.Errorf("posthog: %d events not delivered at close: %w", n, err)
		}
		return fmt.Errorf("posthog: %d events not delivered at close", n)
	}
	if err != nil {
		return fmt.Errorf("posthog: close: %w", err)
	}
	return nil
}

// setRetrying makes the main client's retryable failures go to the retry
// client from now on.
func (s *Sink) setRetrying() {
	s.retryMu.Lock()
	defer s.retryMu.Unlock()
	s.retrying = s.newRetryClient != nil
}

// takeRetry ends resending and returns the retry client, if one was created.
func (s *Sink) takeRetry() ph.Client {
	s.retryMu.Lock()
	defer s.retryMu.Unlock()
	s.retryDone = true
	return s.retry
}

// resend hands an event the main client gave up on to Close's retry client,
// creating it if needed, when Close is stopping the main client and the
// failure is worth retrying. It says whether the event is with the retry
// client now (still tracked in the ledger).
func (s *Sink) resend(u string, failure error) bool {
	if !retryable(failure) {
		return false
	}
	s.retryMu.Lock()
	defer s.retryMu.Unlock()
	if !s.retrying || s.retryDone {
		return false
	}
	ev, ok := s.ledger.peek(u)
	if !ok {
		return false
	}
	if s.retry == nil {
		// Its configuration was accepted by New: no error in practice, and
		// without it only these retries are lost.
		c, err := s.newRetryClient()
		if err != nil {
			return false
		}
		s.retry = c
	}
	if enqueueSafely(s.retry, capture(&ev, ev.Properties, u)) != nil {
		return false // its queue is full: the failure stands
	}
	s.stats.closeRetried.Add(1)
	return true
}

// retryable says whether posthog-go would retry a batch that failed with
// err: a network error, or an answer with status 5xx, 408 or 429. It is
// false for a deadline or cancellation, a message too big, and any other
// answer (posthog-go v1.23.1's error for an answer reads "<status> ...").
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ph.ErrMessageTooBig) {
		return false
	}
	var status int
	if _, scanErr := fmt.Sscanf(err.Error(), "%d ", &status); scanErr != nil || status < 100 || status > 599 {
		return true // not an HTTP answer: a network error, a full batch queue
	}
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// stopClient stops c with stop's deadline, and returns when c has stopped or
// when ctx ends, whichever is first. posthog-go, cancelled when stop ends,
// may take a while longer to wind down on a busy machine; its reports after
// Close has swept the ledger are ignored.
func stopClient(ctx, stop context.Context, c ph.Client) error {
	done := make(chan error, 1)
	go func() { done <- c.CloseWithContext(stop) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("posthog-go still stopping: %w", ctx.Err())
	}
}

// stopEarly derives the context posthog-go's CloseWithContext gets: ctx with
// its deadline moved earlier by a tenth of the time left (at most
// closeReportMargin), so that the reports of aborted requests arrive before
// the caller's deadline.
func stopEarly(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(d)/10, closeReportMargin)
	return context.WithDeadline(ctx, d.Add(-margin))
}

func (s *Sink) closeTransport() {
	if s.ownedRT != nil {
		s.ownedRT.CloseIdleConnections()
	}
}

// acknowledge handles posthog-go's report on one event. resendAtClose says
// the report comes from the main client, whose failures Close may retry.
func (s *Sink) acknowledge(u string, failure error, resendAtClose bool) {
	// Untrack and report under the read fence, so that an event Close has
	// not swept is reported before Close returns, and none after.
	s.reporting.RLock()
	defer s.reporting.RUnlock()
	if s.closed.Load() {
		return // Close has reported everything still tracked
	}
	if s.groups != nil && s.groups.acknowledge(u, failure) {
		if failure != nil {
			s.stats.groupIdentifyFailures.Add(1)
		}
		return
	}
	if failure != nil && resendAtClose && s.resend(u, failure) {
		return
	}
	outcome := &s.stats.sent
	if failure != nil {
		outcome = &s.stats.failed
	}
	ev, seq, ok := s.ledger.take(u, outcome)
	if !ok {
		return // not ours, or reported on already
	}
	defer s.ledger.settle(seq)
	if failure == nil {
		return
	}
	if s.closing.Load() {
		// Close reports it, with the others that fail while it runs, in
		// one call per cause: an UndeliveredFunc call per event (a dead
		// letter write and sync each) would outlast Close's deadline.
		s.failedMu.Lock()
		s.failedAtClose = append(s.failedAtClose, failedEvent{ev, failure})
		s.failedMu.Unlock()
		return
	}
	if f := s.undelivered(); f != nil {
		f([]tracker.Event{ev}, deliveryFailed(failure))
	}
}

// failedEvent is an event posthog-go reported failed while Close ran.
type failedEvent struct {
	ev  tracker.Event
	err error
}

func deliveryFailed(err error) error { return fmt.Errorf("posthog: delivery failed: %w", err) }

// reportFailedAtClose reports the events that failed while Close ran, one
// UndeliveredFunc call per cause (posthog-go gives the events of one batch
// the same error), in the order they failed.
func (s *Sink) reportFailedAtClose(f tracker.UndeliveredFunc) {
	s.failedMu.Lock()
	failed := s.failedAtClose
	s.failedAtClose = nil
	s.failedMu.Unlock()
	if f == nil {
		return
	}
	var causes []string
	byCause := make(map[string][]failedEvent)
	for _, fe := range failed {
		c := fe.err.Error()
		if _, ok := byCause[c]; !ok {
			causes = append(causes, c)
		}
		byCause[c] = append(byCause[c], fe)
	}
	for _, c := range causes {
		group := byCause[c]
		events := make([]tracker.Event, len(group))
		for i := range group {
			events[i] = group[i].ev
		}
		f(events, deliveryFailed(group[0].err))
	}
}

// callback receives posthog-go's delivery reports: the main client's, with
// resendAtClose, or the one's Close creates.
type callback struct {
	s             *Sink
	resendAtClose bool
}

// Success implements posthog.Callback.
func (c callback) Success(m ph.APIMessage) { c.s.acknowledge(messageUUID(m), nil, false) }

// Failure implements posthog.Callback.
func (c callback) Failure(m ph.APIMessage, err error) {
	if err == nil {
		err = errors.New("unknown failure")
	}
	c.s.acknowledge(messageUUID(m), err, c.resendAtClose)
}

func messageUUID(m ph.APIMessage) string {
	switch m := m.(type) {
	case ph.CaptureInApi:
		return m.Uuid
	case ph.GroupIdentifyInApi:
		return m.Uuid
	}
	return ""
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

// retained is the copy of an event the sink keeps until posthog-go reports
// on it: the caller's maps are not kept past Write.
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

// sendUUID is the UUID sent for an event: its own in canonical form, a
// UUIDv5 of it when it is not a UUID, a new UUIDv7 when it is empty.
func sendUUID(s string) string {
	if s == "" {
		return uuid.Must(uuid.NewV7()).String()
	}
	if len(s) == 36 && uuid.Validate(s) == nil && strings.ToLower(s) == s {
		return s
	}
	if u, err := uuid.Parse(s); err == nil {
		return u.String()
	}
	return uuid.NewSHA1(legacyUUIDSpace, []byte(s)).String()
}

var (
	_ tracker.UndeliveredReporter = (*Sink)(nil)
	_ tracker.Flusher             = (*Sink)(nil)
	_ ph.Callback                 = callback{}
)

var _ tracker.Sink = (*Sink)(nil)
