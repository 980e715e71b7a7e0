package posthog

import "sync/atomic"

// Stats counts what happened to the events written to a Sink. Every event
// handed to Write ends in exactly one of Sent, Failed, Refused and
// Unacknowledged, or is still Pending.
type Stats struct {
	// Sent counts events PostHog accepted (posthog-go's Success report).
	Sent uint64
	// Failed counts events posthog-go gave up on: retries exhausted, a 4xx
	// answer, a request aborted at Close.
	Failed uint64
	// Refused counts events Write could not hand to posthog-go: its Enqueue
	// refused them or panicked encoding them (a property value's
	// MarshalJSON), or Write's context ended part way through the batch.
	Refused uint64
	// QueueFull counts the refused events that met posthog-go's full queue
	// (ErrQueueFull).
	QueueFull uint64
	// Unacknowledged counts events posthog-go had not reported on when
	// Close's deadline ended.
	Unacknowledged uint64
	// Undelivered is Failed + Refused + Unacknowledged: the events reported
	// to the UndeliveredFunc (the dead-letter file).
	Undelivered uint64
	// CloseRetried counts the events Close handed to its retry client after
	// posthog-go gave up on them to stop (see Close). They are still counted
	// once in the outcome their retries end in.
	CloseRetried uint64
	// Retries counts the batch retries posthog-go scheduled (one batch holds
	// up to the batch size of events).
	Retries uint64
	// Pending is the number of events handed to posthog-go and not yet
	// reported on.
	Pending int
	// GroupIdentifies counts the $groupidentify messages offered to
	// posthog-go (WithGroupProperties); GroupIdentifyFailures those it
	// refused or reported failed (they are sent again with the group's next
	// event that carries the properties).
	GroupIdentifies, GroupIdentifyFailures uint64
}

type counters struct {
	sent, failed, refused, queueFull, unacknowledged, retries atomic.Uint64
	closeRetried                                              atomic.Uint64
	groupIdentifies, groupIdentifyFailures                    atomic.Uint64
}

func (c *counters) undelivered() uint64 {
	return c.failed.Load() + c.refused.Load() + c.unacknowledged.Load()
}

// Stats returns the sink's counters. It is safe for concurrent use.
func (s *Sink) Stats() Stats {
	pending := s.ledger.len()
	st := Stats{
		Sent:                  s.stats.sent.Load(),
		Failed:                s.stats.failed.Load(),
		Refused:               s.stats.refused.Load(),
		QueueFull:             s.stats.queueFull.Load(),
		Unacknowledged:        s.stats.unacknowledged.Load(),
		CloseRetried:          s.stats.closeRetried.Load(),
		Retries:               s.stats.retries.Load(),
		Pending:               pending,
		GroupIdentifies:       s.stats.groupIdentifies.Load(),
		GroupIdentifyFailures: s.stats.groupIdentifyFailures.Load(),
	}
	st.Undelivered = st.Failed + st.Refused + st.Unacknowledged
	return st
}
