package posthog

import "sync/atomic"

// Stats counts what happened to the events written to a Sink. Every event
// handed to Write ends in exactly one of Sent, Failed, Refused and
// Unacknowledged, or is still Pending.
type Stats struct {
	// Sent counts events PostHog accepted (a 2xx answer).
	Sent uint64
	// Failed counts events given up on after Write: rejected (a 4xx answer
	// other than 408 and 429), still failing after their retries, or still
	// failing when Close's deadline came.
	Failed uint64
	// Refused counts events Write could not hand to posthog-go: its Enqueue
	// refused them or panicked encoding them (a property value's
	// MarshalJSON), or Write's context ended part way through the batch.
	Refused uint64
	// QueueFull counts the refused events that met posthog-go's full queue
	// (ErrQueueFull) twice: before and after the sink handed it over.
	QueueFull uint64
	// Unacknowledged counts events still under way, with no answer, when
	// Close returned.
	Unacknowledged uint64
	// Undelivered is Failed + Refused + Unacknowledged: the events reported
	// to the UndeliveredFunc (the dead-letter file).
	Undelivered uint64
	// Retries counts the messages sent again after a failed attempt.
	Retries uint64
	// Held counts the requests not sent because PostHog had asked, with
	// Retry-After, to wait: their messages wait and are sent after.
	Held uint64
	// Handovers counts posthog-go clients closed to send their buffer at
	// once (by Flush, Close, or a full queue).
	Handovers uint64
	// Pending is the number of events handed to posthog-go and neither
	// delivered nor given up on yet (retries included).
	Pending int
	// GroupIdentifies counts the $groupidentify messages offered to
	// posthog-go (WithGroupProperties, GroupIdentify); GroupIdentifyFailures
	// those refused or given up on (with WithGroupProperties, they are sent
	// again with the group's next event that carries the properties).
	GroupIdentifies, GroupIdentifyFailures uint64
}

type counters struct {
	sent, failed, refused, queueFull, unacknowledged atomic.Uint64
	retries, handovers                               atomic.Uint64
	groupIdentifies, groupIdentifyFailures           atomic.Uint64
}

func (c *counters) undelivered() uint64 {
	return c.failed.Load() + c.refused.Load() + c.unacknowledged.Load()
}

// Stats returns the sink's counters. It is safe for concurrent use.
func (s *Sink) Stats() Stats {
	pending := s.ledger.pendingEvents()
	st := Stats{
		Sent:                  s.stats.sent.Load(),
		Failed:                s.stats.failed.Load(),
		Refused:               s.stats.refused.Load(),
		QueueFull:             s.stats.queueFull.Load(),
		Unacknowledged:        s.stats.unacknowledged.Load(),
		Retries:               s.stats.retries.Load(),
		Held:                  s.rt.held.Load(),
		Handovers:             s.stats.handovers.Load(),
		Pending:               pending,
		GroupIdentifies:       s.stats.groupIdentifies.Load(),
		GroupIdentifyFailures: s.stats.groupIdentifyFailures.Load(),
	}
	st.Undelivered = st.Failed + st.Refused + st.Unacknowledged
	return st
}
