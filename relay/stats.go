package relay

import (
	"fmt"
	"sync/atomic"
)

// Stats are a relay's counters.
type Stats struct {
	// Fetched counts messages fetched, redeliveries included.
	Fetched uint64
	// Redelivered counts fetched messages that had been delivered before (a
	// relay died, a sink failed): the events that may reach a sink twice.
	Redelivered uint64
	// Delivered counts messages acknowledged after the tracker handled
	// their events: every sink delivered them, or the tracker kept none
	// (sampled out by MULTITRACK_SAMPLE, or rejected; see its Stats).
	Delivered uint64
	// Nacked counts messages handed back for redelivery after a failure.
	Nacked uint64
	// DeadLettered counts messages whose last delivery failed: written to
	// the dead letter and terminated.
	DeadLettered uint64
	// Terminated counts messages that were not event lines.
	Terminated uint64
	// Rejected counts events the relay's tracker refused (too large for its
	// MULTITRACK_MAX_EVENT_SIZE, say); their messages are acknowledged, as a
	// retry would be refused again, and the tracker logs each.
	Rejected uint64
	// AckErrors counts acks, naks and terms that could not be sent (the
	// message is then redelivered after the ack wait).
	AckErrors uint64
	// FetchErrors counts fetches that failed.
	FetchErrors uint64
	// Lag is the number of messages in the stream not yet delivered to the
	// consumer, as of the last fetch.
	Lag uint64
}

type counters struct {
	fetched, redelivered, delivered, nacked, deadLettered, terminated, rejected atomic.Uint64
	ackErrors, fetchErrors, lag                                                 atomic.Uint64
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	c := &r.c
	return Stats{
		Fetched: c.fetched.Load(), Redelivered: c.redelivered.Load(), Delivered: c.delivered.Load(),
		Nacked: c.nacked.Load(), DeadLettered: c.deadLettered.Load(), Terminated: c.terminated.Load(), Rejected: c.rejected.Load(),
		AckErrors: c.ackErrors.Load(), FetchErrors: c.fetchErrors.Load(), Lag: c.lag.Load(),
	}
}

// String is one progress line.
func (s Stats) String() string {
	return fmt.Sprintf("fetched %d, delivered %d, redelivered %d, nak'ed %d, dead-lettered %d, terminated %d, lag %d",
		s.Fetched, s.Delivered, s.Redelivered, s.Nacked, s.DeadLettered, s.Terminated, s.Lag)
}

// startProgress writes the counters every progress interval, when asked
// to; the returned function stops it after a last line.
func (r *Relay) startProgress() func() {
	if r.cfg.progress == nil {
		return func() {}
	}
	stop := every(r.cfg.progressEvery, func() { fmt.Fprintf(r.cfg.progress, "relay: %v\n", r.Stats()) })
	return func() {
		stop()
		fmt.Fprintf(r.cfg.progress, "relay: %v\n", r.Stats())
	}
}
