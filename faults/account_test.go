package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// hookLog is the tracker's undelivered hook: it remembers, per sink, the
// last reason given for each UUID, so that an event that was only counted
// (a queue drop, a refusal at Close) is still accounted for by UUID.
type hookLog struct {
	mu      sync.Mutex
	reasons map[string]map[string]error // sink → uuid → reason
}

func newHookLog() *hookLog { return &hookLog{reasons: map[string]map[string]error{}} }

func (h *hookLog) hook(sink string, events []tracker.Event, reason error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.reasons[sink]
	if m == nil {
		m = map[string]error{}
		h.reasons[sink] = m
	}
	for _, e := range events {
		m[e.UUID] = reason
	}
}

// option installs the hook.
func (h *hookLog) option() tracker.Option { return tracker.WithUndeliveredHook(h.hook) }

func (h *hookLog) reason(sink, uuid string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reasons[sink][uuid]
}

// outcome is where one sink's events ended: delivered (times each UUID
// was), and written to the dead letter (lines each UUID has there).
type outcome struct {
	sink         string
	delivered    map[string]int
	deadLettered map[string]int
}

// expect says what a scenario allows.
type expect struct {
	// afterWrite: the sink reports undelivered events after Write returned
	// (PostHog): its Delivered counts them, Undelivered too.
	afterWrite bool
	// overflow: the sink's queue may drop events (counted, not
	// dead-lettered).
	overflow bool
	// duplicates: an event may be both delivered and dead-lettered (its
	// answer was lost at Close's deadline, or a Write that outlived the
	// deadline, dead-lettered then, delivered it), or delivered twice. An
	// event dead-lettered twice is an error everywhere.
	duplicates bool
}

// figures are what one scenario did to one sink's events.
type figures struct {
	Sink               string
	Captured, Rejected int
	AfterClose         int
	Delivered          int // distinct UUIDs delivered
	DeadLettered       int // distinct UUIDs in the dead letter
	QueueFull, Closed  int // counted by reason in Stats and named to the hook, not dead-lettered
	Duplicates         int // delivered twice, or both delivered and dead-lettered
	DeadLetteredTwice  int // more than one dead-letter line
	OnlyCountedAtClose int // accepted, then counted as refused at Close, not dead-lettered (an error: audit)
	Lost               int // neither delivered, dead-lettered nor named to the hook as dropped (an error: audit)
	Replayed           int
	Elapsed            time.Duration

	lost map[string]bool // the Lost events, failed by audit already
}

func (f figures) String() string {
	s := fmt.Sprintf("%s: captured %d (rejected %d, after Close %d), delivered %d, dead-lettered %d, counted: queue_full %d, closed %d; lost %d; duplicates %d, dead-lettered twice %d",
		f.Sink, f.Captured, f.Rejected, f.AfterClose, f.Delivered, f.DeadLettered, f.QueueFull, f.Closed, f.Lost, f.Duplicates, f.DeadLetteredTwice)
	if f.Replayed > 0 {
		s += fmt.Sprintf("; replayed %d", f.Replayed)
	}
	return s + fmt.Sprintf("; %v", f.Elapsed.Round(time.Millisecond))
}

// audit checks, by UUID, that every event c captured is accounted for in
// sink o.sink once the tracker (which has a dead letter) is closed:
// delivered, dead-lettered, or counted by reason in Stats and named to the
// hook, and that Stats agree. With a dead letter nothing the tracker kept
// is only counted: the only events neither delivered nor dead-lettered are
// drops from a full queue (named to the hook as ErrQueueFull, allowed by
// x.overflow) and events captured after Close (named as ErrClosed); an
// event lost without a word, one refused at Close but not dead-lettered,
// or one the dead letter would not take (Stats.DeadLetterErrors) is an
// error.
func audit(t *testing.T, c *captured, st tracker.Stats, o outcome, h *hookLog, x expect) figures {
	t.Helper()
	ss, ok := st.Sinks[o.sink]
	if !ok {
		t.Fatalf("no sink %q in Stats", o.sink)
	}
	f := figures{Sink: o.sink, Captured: c.total, Rejected: len(c.bad), AfterClose: int(st.AfterClose), Elapsed: c.elapsed}
	if got := int(st.Captured + st.AfterClose); got != c.total {
		t.Errorf("Stats: Captured %d + AfterClose %d = %d, but %d events were captured", st.Captured, st.AfterClose, got, c.total)
	}
	if r := int(st.Rejected.Unencodable); r > len(c.bad) || r < len(c.bad)-int(st.AfterClose) {
		t.Errorf("Stats: %d rejected as unencodable, want %d (less those captured after Close)", r, len(c.bad))
	}
	for _, set := range []map[string]int{o.delivered, o.deadLettered} {
		for u := range set {
			switch {
			case c.bad[u]:
				t.Errorf("%s: event %s reached the sink though the tracker must reject it", o.sink, u)
			case !c.valid[u]:
				t.Errorf("%s: event %s was never captured", o.sink, u)
			}
		}
	}

	var lost []string
	for u := range c.valid {
		d, l := o.delivered[u], o.deadLettered[u]
		if d > 0 {
			f.Delivered++
		}
		if l > 0 {
			f.DeadLettered++
		}
		if d > 1 || d > 0 && l > 0 {
			f.Duplicates++
		}
		if l > 1 {
			f.DeadLetteredTwice++
		}
		if d > 0 || l > 0 {
			continue
		}
		switch r := h.reason(o.sink, u); {
		case errors.Is(r, tracker.ErrQueueFull):
			f.QueueFull++
		case errors.Is(r, tracker.ErrClosed):
			f.Closed++
		default:
			lost = append(lost, u)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		f.Lost = len(lost)
		f.lost = make(map[string]bool, len(lost))
		for _, u := range lost {
			f.lost[u] = true
		}
		t.Errorf("%s: %d events lost: neither delivered, nor dead-lettered, nor named to the hook as dropped (first %s; the tracker's dead letter refused %d events)",
			o.sink, len(lost), lost[0], st.DeadLetterErrors)
	}
	if st.DeadLetterErrors > 0 {
		t.Errorf("%s: Stats.DeadLetterErrors is %d (all sinks): events the dead letter would not take are only counted", o.sink, st.DeadLetterErrors)
	}
	if f.QueueFull != int(ss.Dropped.QueueFull) {
		t.Errorf("%s: %d events dropped from a full queue by UUID, Stats say %d", o.sink, f.QueueFull, ss.Dropped.QueueFull)
	}
	// Of the Captures after Close, those of events the tracker would have
	// kept: the others would have been rejected had it been open.
	validAfterClose := int(st.AfterClose) - (len(c.bad) - int(st.Rejected.Unencodable))
	if f.Closed > int(ss.Dropped.Closed)+validAfterClose {
		t.Errorf("%s: %d events only counted at Close by UUID, Stats say %d (Dropped.Closed %d + %d valid events after Close)",
			o.sink, f.Closed, int(ss.Dropped.Closed)+validAfterClose, ss.Dropped.Closed, validAfterClose)
	}
	if !x.overflow && f.QueueFull > 0 {
		t.Errorf("%s: %d events dropped from a full queue, none expected", o.sink, f.QueueFull)
	}
	if f.Closed > validAfterClose {
		// Accepted by Capture (not after Close), so they must end delivered
		// or dead-lettered.
		f.OnlyCountedAtClose = f.Closed - validAfterClose
		t.Errorf("%s: %d events that raced Close were only counted (Dropped.Closed), not dead-lettered, though a dead letter is configured",
			o.sink, f.OnlyCountedAtClose)
	}
	if !x.duplicates && f.Duplicates > 0 {
		t.Errorf("%s: %d events delivered twice, or both delivered and dead-lettered", o.sink, f.Duplicates)
	}
	if f.DeadLetteredTwice > 0 {
		t.Errorf("%s: %d events written to the dead letter more than once", o.sink, f.DeadLetteredTwice)
	}

	if lines := sum(o.deadLettered); lines != int(ss.DeadLettered) {
		t.Errorf("%s: the dead letter has %d lines for the sink, Stats say %d dead-lettered", o.sink, lines, ss.DeadLettered)
	}
	if x.afterWrite {
		// Stats' Delivered counts what Write took; Undelivered what the
		// sink gave up on later: the rest reached PostHog.
		onlyDelivered := 0
		for u, n := range o.delivered {
			if n > 0 && o.deadLettered[u] == 0 {
				onlyDelivered++
			}
		}
		if want := int(ss.Delivered - ss.Undelivered); onlyDelivered != want {
			t.Errorf("%s: %d events delivered and not dead-lettered, Stats say %d (Delivered %d − Undelivered %d)",
				o.sink, onlyDelivered, want, ss.Delivered, ss.Undelivered)
		}
	} else if n := sum(o.delivered); n != int(ss.Delivered) {
		t.Errorf("%s: %d events delivered, Stats say %d", o.sink, n, ss.Delivered)
	}
	if ss.Queued != 0 {
		t.Errorf("%s: %d events still queued after Close", o.sink, ss.Queued)
	}
	return f
}

// mustComplete checks that, after the replay, every event c captured that
// the tracker kept and did not only count is delivered (those audit found
// lost it has failed already).
func mustComplete(t *testing.T, c *captured, f figures, sink string, delivered map[string]int, h *hookLog) {
	t.Helper()
	var missing []string
	for u := range c.valid {
		if delivered[u] > 0 {
			continue
		}
		if r := h.reason(sink, u); errors.Is(r, tracker.ErrQueueFull) || errors.Is(r, tracker.ErrClosed) || f.lost[u] {
			continue // counted, and accounted for by audit
		}
		missing = append(missing, u)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("%s: after replaying the dead letter, %d events are still not delivered (first %s)", sink, len(missing), missing[0])
	}
	if got, want := countDelivered(c, delivered), len(c.valid)-f.QueueFull-f.Closed-f.Lost; got != want {
		t.Errorf("%s: after the replay %d events delivered, want %d: %d captured − %d queue drops − %d counted at Close − %d lost",
			sink, got, want, len(c.valid), f.QueueFull, f.Closed, f.Lost)
	}
}

func countDelivered(c *captured, delivered map[string]int) int {
	n := 0
	for u := range c.valid {
		if delivered[u] > 0 {
			n++
		}
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// readEvents reads event files (a file sink's output and its backups),
// counting each UUID's lines; a bad line fails the test, a torn last line
// is counted.
func readEvents(t *testing.T, paths ...string) (byUUID map[string]int, torn int) {
	t.Helper()
	byUUID = map[string]int{}
	for _, p := range paths {
		events, warnings, err := eventline.ReadFile(p)
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		for _, w := range warnings {
			if !errors.Is(w, eventline.ErrTornLine) {
				t.Errorf("reading %s: %v", p, w)
			}
		}
		torn += len(warnings)
		for _, e := range events {
			byUUID[e.UUID]++
		}
	}
	return byUUID, torn
}

// readDeadLetter reads a dead letter, by the sink each line names.
func readDeadLetter(t *testing.T, path string) map[string]map[string]int {
	t.Helper()
	events, warnings, err := eventline.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the dead letter: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("the dead letter of a process that was not killed has a torn line: %v", warnings)
	}
	out := map[string]map[string]int{}
	for _, e := range events {
		s, _ := e.Properties[tracker.PropSink].(string)
		if out[s] == nil {
			out[s] = map[string]int{}
		}
		out[s][e.UUID]++
	}
	return out
}

// replayChunk is how many events replay captures between Flushes, as
// multitrack replay does, so that the queue never overflows.
const replayChunk = 1024

// replay sends the dead letter's events for sink into dst through a
// tracker of its own, as multitrack replay does (the sink's name removed,
// UUID and timestamp kept, a Flush every chunk), closes it, and checks
// that all were delivered. It returns how many it replayed.
func replay(t *testing.T, deadLetter, sink string, dst tracker.Sink) int {
	t.Helper()
	events, _, err := eventline.ReadFile(deadLetter)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	tr, err := tracker.New(tracker.WithSink(sink, dst))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Properties[tracker.PropSink] != sink {
			continue
		}
		e.Properties = maps.Clone(e.Properties)
		delete(e.Properties, tracker.PropSink)
		tr.Capture(context.Background(), e)
		if n++; n%replayChunk == 0 {
			if err := tr.Flush(context.Background()); err != nil {
				t.Errorf("replay: flush: %v", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		t.Errorf("replay: %v", err)
	}
	if ss := tr.Stats().Sinks[sink]; int(ss.Delivered-ss.Undelivered) != n {
		t.Errorf("replay: %d events replayed, %d delivered: %+v", n, ss.Delivered-ss.Undelivered, ss)
	}
	return n
}

// settle waits until the tracker's undelivered counters stop moving: a
// sink still closing when Close returned may still report events.
func settle(t *testing.T, tr *tracker.Tracker) {
	t.Helper()
	count := func() uint64 {
		st := tr.Stats()
		n := st.DeadLetterErrors
		for _, ss := range st.Sinks {
			n += ss.DeadLettered + ss.Undelivered + ss.Failed
		}
		return n
	}
	last, still := count(), 0
	for deadline := time.Now().Add(10 * time.Second); still < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if n := count(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
}

// logFigures logs each scenario's figures on one line each, for the README.
func logFigures(t *testing.T, fs ...figures) {
	t.Helper()
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n\t" + f.String())
	}
	t.Logf("figures:%s", b.String())
}
