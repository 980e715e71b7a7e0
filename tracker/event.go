package tracker

import (
	"context"
	"time"

	"github.com/multitrack/multitrack/internal/deadletter"
	"github.com/multitrack/multitrack/internal/uuidv7"
)

// Event is one product-analytics event.
//
// Capture takes the event's maps as they are: the caller must not modify them
// afterwards, and neither the tracker nor any sink modifies them (the tracker
// copies a map before it adds or removes a key).
type Event struct {
	// Name is the event's name, e.g. "query_failed". Required.
	Name string
	// DistinctID says who the event belongs to. When empty, Capture resolves it:
	// the organization, else the tracker's fallback ("standalone").
	DistinctID string
	// Groups maps a group type to its key, e.g. {"organization": "org_42"}
	// (PostHog group analytics).
	Groups map[string]string
	// Properties holds JSON-encodable values only: strings, bools, numbers,
	// time.Time, nil, and maps and slices of those.
	Properties map[string]any
	// Timestamp is when the event happened; zero means "now" at Capture.
	// Its year must be 0 to 9999, in UTC and in its own zone (RFC 3339's
	// range): Capture rejects any other (Stats.Rejected.BadTimestamp).
	Timestamp time.Time
	// UUID identifies the event for deduplication downstream; empty means a
	// UUIDv7 is given at Capture: its time and random bits are fixed there,
	// and its text written before the event reaches a sink, the undelivered
	// hook or the dead letter. Samplers, which decide before, see it empty
	// and use UUIDRandom.
	UUID string

	// rnd holds the random bits (rand_b) of the UUIDv7 that Capture gives
	// an event without one; valid when hasRnd is set. The UUID's text is
	// written from them and the timestamp (setUUID).
	rnd    uint64
	hasRnd bool
}

// UUIDRandom returns the event's per-event random key, uniform in
// [0, 2^62): its UUIDv7's random bits, mixed (or a hash of a UUID that is
// not in canonical form). Samplers that decide per event use it, so that one
// UUID gets one decision in every process. During Capture (the tracker's
// and the sinks' samplers) it is the key of the UUID to come, whose text is
// not written yet, so that Capture allocates nothing.
func (e Event) UUIDRandom() uint64 {
	// Before the UUID string is formatted, rnd holds its random bits.
	if e.hasRnd {
		return uuidv7.Mix(e.rnd)
	}
	return uuidv7.Key(e.UUID)
}

// setUUID writes the text of the UUIDv7 that Capture gave e, unless e has
// its text already: its timestamp's millisecond and sub-millisecond time
// (RFC 9562's method 3) and its random bits. Every copy of the event gets
// the same text, wherever it is written (each sink's worker, the dead
// letter, the undelivered hook).
func (e *Event) setUUID() {
	if e.UUID == "" && e.hasRnd {
		e.UUID = uuidv7.Format(e.Timestamp, uuidv7.SubMillis(e.Timestamp), e.rnd)
	}
}

// setUUIDs calls setUUID on every event.
func setUUIDs(events []Event) {
	for i := range events {
		events[i].setUUID()
	}
}

// GroupOrganization is the group type that WithOrganization fills.
const GroupOrganization = "organization"

// PropSampleRate is the property a kept event carries when it was kept with a
// probability below 1, so that counts can be re-weighted (1/rate).
const PropSampleRate = "$sample_rate"

// PropSink ("$multitrack_sink") is the property that names, in a dead-letter
// file, the sink an event could not be delivered to, so that it can be
// replayed into that sink.
const PropSink = deadletter.PropSink

// Sink receives batches of events. A sink is registered with WithSink; the
// tracker gives it its own bounded queue and one worker goroutine.
type Sink interface {
	// Write delivers a batch. It is called from the sink's own worker goroutine
	// only, never concurrently with itself or with Close. Retries are the sink's
	// own business. It honours ctx (its deadline and cancellation). It must not
	// keep the slice, nor the events' maps, after it returns: copy what it needs.
	// An error means none of the batch was delivered: the tracker counts the
	// whole batch as failed and writes it to the dead-letter file. A sink that
	// delivered part of a batch reports the rest through its UndeliveredFunc
	// (see UndeliveredReporter) and returns nil.
	Write(ctx context.Context, events []Event) error
	// Close flushes what the sink buffers and releases it, within ctx's
	// deadline. It is called once, after the last Write.
	Close(ctx context.Context) error
}

// Sampler decides whether an event is kept.
type Sampler interface {
	// Sample says whether e is kept, and with what probability it was kept
	// (1 = always). It is called concurrently from many goroutines. The event
	// is passed by value so that nothing escapes to the heap; the sampler must
	// not keep or modify its maps.
	Sample(e Event) (keep bool, rate float64)
}

// SampleInput is a set of the fields Capture fills in that a Sampler reads.
type SampleInput uint8

const (
	// InputKey: the sampler calls UUIDRandom on events that have no UUID.
	InputKey SampleInput = 1 << iota
	// InputIdentity: the sampler reads DistinctID or Groups as Capture
	// resolves them (the organization from the context, the fallback
	// distinct id).
	InputIdentity
	// InputAll is every field Capture fills in before sampling.
	InputAll = InputKey | InputIdentity
)

// InputSampler is an optional interface for a Sampler that says which of
// the fields Capture fills in it reads, so that Capture can decide before
// filling the others: a sampled-out event then costs no identity lookup
// and no random draw. A Sampler without it is given the event fully
// resolved. One that reads a field it did not declare sees it unresolved
// (DistinctID empty, no organization from the context, and, without a
// UUID, one UUIDRandom for every event).
type InputSampler interface {
	Sampler
	// Inputs returns the fields Sample reads; it must not change.
	Inputs() SampleInput
}

// InputsOf returns the fields s reads: what it declares as an InputSampler,
// else InputAll. A sampler that delegates (rules, a fallback) declares the
// union of its delegates' inputs.
func InputsOf(s Sampler) SampleInput {
	if is, ok := s.(InputSampler); ok {
		return is.Inputs() & InputAll
	}
	return InputAll
}

// SamplerFunc adapts a function to the Sampler interface.
type SamplerFunc func(e Event) (keep bool, rate float64)

// Sample calls f(e).
func (f SamplerFunc) Sample(e Event) (bool, float64) { return f(e) }

// Flusher is an optional interface for sinks that buffer inside themselves
// (a bufio.Writer, a client with its own batch queue). Tracker.Flush calls it
// on the sink's worker after the sink's queue has been written, so that Flush
// is a barrier down to the sink's destination where the sink can offer one.
type Flusher interface {
	Flush(ctx context.Context) error
}

// UndeliveredFunc is called with events that a sink had accepted in Write but
// finally could not deliver, and why. It is safe for concurrent use and must
// not be called after the sink's Close has returned.
type UndeliveredFunc func(events []Event, reason error)

// UndeliveredReporter is an optional interface for sinks that learn only after
// Write has returned that some events were not delivered (an asynchronous
// client such as posthog-go reports failures from its own goroutines). The
// tracker calls SetUndelivered once, before the first Write; the sink calls the
// function for every event it gives up on, and the tracker counts those events
// and writes them to the dead-letter file when one is configured.
type UndeliveredReporter interface {
	SetUndelivered(f UndeliveredFunc)
}
