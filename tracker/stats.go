package tracker

import (
	"sync/atomic"
	"time"
)

// Stats are a tracker's counters, overall and per sink. For a tracker that
// is not closed they are a snapshot of moving numbers; once Close has
// returned they add up exactly:
//
//	Captured = SampledOut + Rejected.Total() + Kept + Panics
//	for each sink: Kept = sink.Received
//	sink.Received = sink.SampledOut + sink.Delivered + sink.Failed + sink.Dropped.Total() + sink.Queued
type Stats struct {
	// Captured counts the events Capture took while the tracker was open:
	// SampledOut + Rejected.Total() + Kept + Panics.
	Captured uint64
	// SampledOut counts events the tracker's sampler dropped.
	SampledOut uint64
	// Rejected counts events refused as invalid, by reason.
	Rejected RejectStats
	// Kept counts events fanned out to the sinks.
	Kept uint64
	// Redacted counts properties removed because their keys look secret.
	Redacted uint64
	// Plan counts violations of the tracking plan (WithPlan), by kind.
	Plan PlanStats
	// Stripped counts properties removed because the tracking plan does not
	// allow them (PlanStrip).
	Stripped uint64
	// AfterClose counts Capture calls after Close, which are ignored.
	AfterClose uint64
	// Panics counts events dropped because Capture recovered a panic (from
	// the tracker's sampler, most likely).
	Panics uint64
	// DeadLetterErrors counts events that could not be written to the
	// dead-letter file.
	DeadLetterErrors uint64
	// Sinks holds each sink's counters by name.
	Sinks map[string]SinkStats
}

// RejectStats counts rejected events by reason.
type RejectStats struct {
	EmptyName   uint64 // Name was empty
	Unencodable uint64 // a property value JSON cannot encode (func, chan, NaN, cycle, …)
	TooLarge    uint64 // over the maximum event size
	// BadTimestamp counts events whose Timestamp is outside years 0–9999,
	// in UTC or in its own zone, which no event line or JSON can carry.
	BadTimestamp uint64
	Plan         uint64 // broke the tracking plan, in PlanDrop mode
}

// Total is the number of rejected events.
func (r RejectStats) Total() uint64 {
	return r.EmptyName + r.Unencodable + r.TooLarge + r.BadTimestamp + r.Plan
}

// DropStats counts events dropped for a sink, by reason.
type DropStats struct {
	// QueueFull: the queue was full (newest dropped, oldest evicted, or
	// block timed out).
	QueueFull uint64
	// Closed: accepted by Capture while Close was under way, after the
	// sink's queue had closed. They go to the dead-letter file when one is
	// configured (counted in DeadLettered), as ShutdownDeadline's do.
	Closed uint64
	// ShutdownDeadline: still queued when Close's deadline ended.
	ShutdownDeadline uint64
}

// Total is the number of dropped events.
func (d DropStats) Total() uint64 { return d.QueueFull + d.Closed + d.ShutdownDeadline }

// SinkStats are one sink's counters.
type SinkStats struct {
	// Received counts events offered to the sink: every kept event.
	Received uint64
	// SampledOut counts events the sink's own sampler dropped.
	SampledOut uint64
	// Delivered counts events in batches whose Write returned nil.
	Delivered uint64
	// Failed counts events in batches whose Write returned an error or
	// panicked.
	Failed uint64
	// Undelivered counts events the sink reported, after a successful Write,
	// as finally not delivered (UndeliveredReporter); they are included in
	// Delivered. An event of a batch Close dead-lettered already, because
	// its Write overran Close's deadline, is counted here but not written
	// to the dead letter again.
	Undelivered uint64
	// Dropped counts events dropped before reaching Write, by reason.
	Dropped DropStats
	// DeadLettered counts this sink's events written to the dead-letter file.
	DeadLettered uint64
	// WriteErrors counts Write calls that returned an error.
	WriteErrors uint64
	// Panics counts panics recovered from the sink's Write, Flush or Close,
	// and from its own sampler (that event is counted in SampledOut).
	Panics uint64
	// Batches counts Write calls.
	Batches uint64
	// Queued is the number of events waiting in the queue now.
	Queued int
	// LastError is the time of the last Write error (zero if none).
	LastError time.Time
}

type trackerCounters struct {
	sampledOut, kept, redacted, afterClose, panics atomic.Uint64
	emptyName, unencodable, tooLarge, badTimestamp atomic.Uint64
	planRejected, stripped                         atomic.Uint64
}

type sinkCounters struct {
	sampledOut, delivered, failed, undelivered        atomic.Uint64
	queueFull, closed, shutdownDeadline, deadLettered atomic.Uint64
	writeErrors, panics, batches                      atomic.Uint64
	lastError                                         atomic.Int64
}

// Stats returns the tracker's counters. A nil tracker has none.
func (t *Tracker) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	c := &t.counters
	s := Stats{
		SampledOut: c.sampledOut.Load(),
		Rejected: RejectStats{
			EmptyName:    c.emptyName.Load(),
			Unencodable:  c.unencodable.Load(),
			TooLarge:     c.tooLarge.Load(),
			BadTimestamp: c.badTimestamp.Load(),
			Plan:         c.planRejected.Load(),
		},
		Kept:             c.kept.Load(),
		Redacted:         c.redacted.Load(),
		Plan:             t.planCounts.load(),
		Stripped:         c.stripped.Load(),
		AfterClose:       c.afterClose.Load(),
		Panics:           c.panics.Load(),
		DeadLetterErrors: t.lost.deadLetterErrors(),
	}
	s.Captured = s.SampledOut + s.Rejected.Total() + s.Kept + s.Panics
	if len(t.workers) > 0 {
		s.Sinks = make(map[string]SinkStats, len(t.workers))
	}
	for _, w := range t.workers {
		ws := w.stats()
		ws.Received = s.Kept
		s.Sinks[w.name] = ws
	}
	return s
}

func (w *worker) stats() SinkStats {
	c := &w.counters
	s := SinkStats{
		SampledOut:  c.sampledOut.Load(),
		Delivered:   c.delivered.Load(),
		Failed:      c.failed.Load(),
		Undelivered: c.undelivered.Load(),
		Dropped: DropStats{
			QueueFull:        c.queueFull.Load(),
			Closed:           c.closed.Load(),
			ShutdownDeadline: c.shutdownDeadline.Load(),
		},
		DeadLettered: c.deadLettered.Load(),
		WriteErrors:  c.writeErrors.Load(),
		Panics:       c.panics.Load(),
		Batches:      c.batches.Load(),
		Queued:       w.queued(),
	}
	if ns := c.lastError.Load(); ns != 0 {
		s.LastError = time.Unix(0, ns)
	}
	return s
}
