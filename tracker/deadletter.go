package tracker

import (
	"sync"
	"sync/atomic"

	"github.com/multitrack/multitrack/internal/deadletter"
	"github.com/multitrack/multitrack/internal/line"
)

// undelivered is where every worker reports the events its sink did not
// deliver: the caller's hook (WithUndeliveredHook), then, for events that
// were accepted, the dead-letter file (WithDeadLetter). A nil *undelivered
// reports nowhere.
type undelivered struct {
	hook       func(sink string, events []Event, reason error)
	file       *deadletter.File // nil without WithDeadLetter
	log        *diag
	fileErrors atomic.Uint64 // events that could not be written to the file

	mu       sync.Mutex
	closed   bool      // close has run: refused events are written at once
	refusals []refusal // refused by closed queues, written by close
}

// refusal is an event a sink's closed queue refused, waiting for the dead
// letter.
type refusal struct {
	sink  string
	e     Event
	count *atomic.Uint64 // the sink's DeadLettered
}

// dropped reports one event a sink's queue refused (full, or closed
// without a dead letter). It is not dead-lettered: the hook, when set, is
// all that learns of it.
func (u *undelivered) dropped(sink string, e *Event, reason error) {
	if u == nil || u.hook == nil {
		return
	}
	ev := *e
	ev.setUUID()
	u.callHook(sink, []Event{ev}, reason)
}

// refused reports an event that Capture accepted and a sink's queue then
// refused because Close had begun. With a dead letter it goes there like
// any event Close could not deliver, counted in count: held until close
// writes the file, so that the Capture racing Close does not wait for the
// disk, or written at once when close has run already (that Capture was
// descheduled across all of Close). Without one, only the hook hears of it.
func (u *undelivered) refused(sink string, e *Event, reason error, count *atomic.Uint64) {
	if u == nil || u.file == nil {
		u.dropped(sink, e, reason)
		return
	}
	ev := *e
	ev.setUUID()
	if u.hook != nil {
		u.callHook(sink, []Event{ev}, reason)
	}
	u.mu.Lock()
	if !u.closed {
		u.refusals = append(u.refusals, refusal{sink: sink, e: ev, count: count})
		u.mu.Unlock()
		return
	}
	u.mu.Unlock()
	count.Add(uint64(u.write(sink, []Event{ev})))
}

// failed reports events that sink accepted and did not deliver: to the
// hook, then to the dead-letter file, each with the sink's name in
// PropSink. It returns how many were written to the file.
func (u *undelivered) failed(sink string, events []Event, reason error) int {
	if u == nil || len(events) == 0 {
		return 0
	}
	if u.hook != nil {
		u.callHook(sink, events, reason)
	}
	return u.write(sink, events)
}

// write appends events to the dead-letter file, when there is one, and
// returns how many it wrote; what it could not write is counted and logged.
func (u *undelivered) write(sink string, events []Event) int {
	if u.file == nil {
		u.log.of(kindDeadLetter).Error().Str("sink", sink).Int("events", len(events)).Msg("multitrack: events not delivered and no dead-letter file configured")
		return 0
	}
	n, err := u.spill(sink, events)
	if lost := len(events) - n; lost > 0 {
		u.fileErrors.Add(uint64(lost))
		u.log.of(kindDeadLetter).Error().Str("sink", sink).Int("events", lost).Err(err).Msg("multitrack: could not write to the dead-letter file")
	}
	return n
}

// callHook calls the hook; a panic in it is logged, by type, and goes no
// further (Capture must not panic, nor a worker die).
func (u *undelivered) callHook(sink string, events []Event, reason error) {
	defer func() {
		if r := recover(); r != nil {
			u.log.panicked(sink, r, "multitrack: the undelivered hook panicked")
		}
	}()
	u.hook(sink, events, reason)
}

// spill appends events to the dead-letter file as event lines, all or none;
// an event that no encoder can write is lost, and counted.
func (u *undelivered) spill(sink string, events []Event) (int, error) {
	return u.file.AppendEvents(len(events), func(i int) (string, line.Fields) {
		e := &events[i]
		return sink, line.Fields{UUID: e.UUID, Name: e.Name, DistinctID: e.DistinctID, Timestamp: e.Timestamp, Groups: e.Groups, Properties: e.Properties}
	})
}

// path returns the dead-letter file's path, or "".
func (u *undelivered) path() string {
	if u == nil || u.file == nil {
		return ""
	}
	return u.file.Path()
}

// lastFileError returns the last error writing the dead-letter file.
func (u *undelivered) lastFileError() error {
	if u == nil {
		return nil
	}
	return u.file.LastError()
}

// deadLetterErrors returns how many events could not be written to the
// dead-letter file.
func (u *undelivered) deadLetterErrors() uint64 {
	if u == nil {
		return 0
	}
	return u.fileErrors.Load()
}

// close writes the events refused by closed queues, then closes the
// dead-letter file; an event refused later is written on its own.
func (u *undelivered) close() error {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	u.closed = true
	rs := u.refusals
	u.refusals = nil
	u.mu.Unlock()
	for len(rs) > 0 { // one append for each run of one sink's events
		n := 1
		for n < len(rs) && rs[n].sink == rs[0].sink {
			n++
		}
		events := make([]Event, n)
		for i := range events {
			events[i] = rs[i].e
		}
		rs[0].count.Add(uint64(u.write(rs[0].sink, events)))
		rs = rs[n:]
	}
	return u.file.Close()
}
