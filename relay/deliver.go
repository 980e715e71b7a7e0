package relay

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/line"
	"github.com/multitrack/multitrack/tracker"
)

// item is one fetched message carrying an event, while it is delivered.
type item struct {
	msg        jetstream.Msg
	seq        uint64 // stream sequence
	deliveries uint64 // this delivery's number, 1 for the first
	event      tracker.Event
	failed     []string // the sinks that did not deliver it
	reason     error
}

// uuidSpace names the UUIDs given to event lines that have none: derived
// from the stream and sequence, so that every redelivery gets the same.
var uuidSpace = uuid.MustParse("6f0d2c36-52a4-4c63-9b53-8d0a3f1e7c21")

// deliver captures the batch's events, waits for the tracker's Flush
// barrier, and settles each message: ack when delivered, nak with backoff
// when a sink failed, dead letter and term at the last delivery. ctx bounds
// the wait (the shutdown deadline); messages whose delivery it cut short
// are nak'ed.
func (r *Relay) deliver(ctx context.Context, msgs []jetstream.Msg) {
	items := make([]*item, 0, len(msgs))
	byUUID := make(map[string][]*item, len(msgs))
	for _, m := range msgs {
		r.c.fetched.Add(1)
		meta, err := m.Metadata()
		if err != nil { // not from a consumer: cannot happen with Fetch
			r.terminate(m, 0, err)
			continue
		}
		if meta.NumDelivered > 1 {
			r.c.redelivered.Add(1)
		}
		r.c.lag.Store(meta.NumPending)
		e, err := eventline.Parse(m.Data())
		if err != nil {
			r.terminate(m, meta.Sequence.Stream, err)
			continue
		}
		if e.UUID == "" {
			e.UUID = uuid.NewSHA1(uuidSpace, []byte(meta.Stream+"/"+strconv.FormatUint(meta.Sequence.Stream, 10))).String()
		}
		it := &item{msg: m, seq: meta.Sequence.Stream, deliveries: meta.NumDelivered, event: e}
		items = append(items, it)
		byUUID[e.UUID] = append(byUUID[e.UUID], it)
	}
	if len(items) == 0 {
		return
	}

	r.mu.Lock()
	r.inflight = byUUID
	r.mu.Unlock()
	statsBefore := r.tracker.Stats()
	for _, it := range items {
		r.tracker.Capture(context.Background(), it.event)
	}
	stopKeepAlive := r.keepAlive(items)
	flushErr := r.tracker.Flush(ctx)
	stopKeepAlive()
	r.mu.Lock()
	r.inflight = nil
	r.mu.Unlock()
	statsAfter := r.tracker.Stats()
	if rejected := statsAfter.Rejected.Total() - statsBefore.Rejected.Total(); rejected > 0 {
		// Retrying would be rejected again: they are acknowledged, and the
		// tracker has logged each with its reason.
		r.c.rejected.Add(rejected)
	}

	for _, it := range items {
		switch {
		case flushErr != nil:
			// Delivery was cut short: whether the sinks have the event is
			// unknown, so it is delivered again (a duplicate at worst).
			r.nak(it, 0)
		case len(it.failed) == 0:
			if err := it.msg.Ack(); err != nil {
				r.ackError(it, err)
				continue
			}
			r.c.delivered.Add(1)
		case it.deliveries >= uint64(r.cfg.maxDeliver):
			r.deadLetter(it)
		default:
			r.nak(it, r.cfg.backoffFor(it.deliveries))
		}
	}
	if flushErr != nil {
		r.cfg.log.Warn().Err(flushErr).Int("messages", len(items)).Msg("multitrack: relay: delivery cut short; messages nak'ed for redelivery")
	}
}

// undelivered is the tracker's undelivered hook: it marks the messages of
// the batch in flight whose events a sink did not deliver.
func (r *Relay) undelivered(sink string, events []tracker.Event, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range events {
		for _, it := range r.inflight[events[i].UUID] {
			if !slices.Contains(it.failed, sink) {
				it.failed = append(it.failed, sink)
			}
			it.reason = reason
		}
	}
}

func (r *Relay) nak(it *item, delay time.Duration) {
	if err := it.msg.NakWithDelay(delay); err != nil {
		r.ackError(it, err)
		return
	}
	r.c.nacked.Add(1)
}

func (r *Relay) ackError(it *item, err error) {
	r.c.ackErrors.Add(1)
	// The message is redelivered after the ack wait: a duplicate, no loss.
	r.cfg.log.Warn().Err(err).Uint64("seq", it.seq).Msg("multitrack: relay: could not settle a message; it will be redelivered")
}

// terminate ends the delivery of a message that is not an event line: it
// would fail the same way every time.
func (r *Relay) terminate(m jetstream.Msg, seq uint64, why error) {
	r.c.terminated.Add(1)
	r.cfg.log.Error().Uint64("seq", seq).Str("subject", m.Subject()).Err(why).
		Msg("multitrack: relay: not an event line; terminated (it stays in the stream until its limits remove it)")
	if err := m.TermWithReason("not an event line"); err != nil {
		r.c.ackErrors.Add(1)
	}
}

// deadLetter writes an event that failed its last delivery to the dead
// letter, once for each sink that failed, and terminates its message. When
// the dead letter cannot be written, the message is nak'ed instead.
func (r *Relay) deadLetter(it *item) {
	if r.dead != nil {
		e := &it.event
		f := line.Fields{UUID: e.UUID, Name: e.Name, DistinctID: e.DistinctID, Timestamp: e.Timestamp, Groups: e.Groups, Properties: e.Properties}
		_, err := r.dead.AppendEvents(len(it.failed), func(i int) (string, line.Fields) { return it.failed[i], f })
		if err != nil {
			r.cfg.log.Error().Err(err).Uint64("seq", it.seq).Msg("multitrack: relay: could not write the dead letter; message nak'ed")
			r.nak(it, r.cfg.maxBackoff)
			return
		}
	}
	r.cfg.log.Error().Uint64("seq", it.seq).Str("event", it.event.Name).Strs("sinks", it.failed).Uint64("deliveries", it.deliveries).
		AnErr("reason", it.reason).Bool("dead_lettered", r.dead != nil).Msg("multitrack: relay: delivery failed for the last time; message terminated")
	if err := it.msg.TermWithReason("max deliveries reached"); err != nil {
		r.ackError(it, err)
		return
	}
	r.c.deadLettered.Add(1)
}

// keepAlive tells the server, every third of the ack wait, that the batch's
// messages are still being worked on, so that a slow sink does not get
// them redelivered to another relay. The returned function stops it.
func (r *Relay) keepAlive(items []*item) func() {
	return every(r.cfg.ackWait/3, func() {
		for _, it := range items {
			_ = it.msg.InProgress() // a failure shows as a redelivery, counted
		}
	})
}
