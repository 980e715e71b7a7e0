package faults

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// TestCloseWithShortDeadlineMidOutage closes the tracker with a short
// deadline while PostHog is down and goroutines are still capturing: Close
// returns about by its deadline, every event it could not deliver is in the
// dead letter and named in its error, the file sink beside PostHog loses
// nothing, and replaying the dead letter once PostHog is back delivers the
// rest.
func TestCloseWithShortDeadlineMidOutage(t *testing.T) {
	cases := []struct {
		name  string
		fault mode
	}{
		{"500", answer500},
		{"hanging", hanging},
	}
	sc := size()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, dl := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "dead-letter.jsonl")
			e := newEndpoint(t)
			fs, err := file.New(path)
			if err != nil {
				t.Fatal(err)
			}
			h := newHookLog()
			tr := newTracker(t, tracker.WithSink("posthog", e.newSink(t), bigQueue), tracker.WithSink("file", fs), tracker.WithDeadLetter(dl), h.option())
			l := startLoad(t, tr, sc)
			time.Sleep(sc.healthy)
			e.set(tc.fault)
			time.Sleep(sc.outage / 2)
			waitUntil(t, "PostHog to fail a request", func() bool { return e.answered(http.StatusInternalServerError) || e.hung() })

			// Two more goroutines capture as fast as they can across the
			// moment Close begins: events that race it.
			flood := startLoad(t, tr, scale{goroutines: 2, rate: 50_000})
			time.Sleep(20 * time.Millisecond)
			const deadline = 300 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			closeErr := tr.Close(ctx) // the load goes on capturing
			took := time.Since(start)
			time.Sleep(50 * time.Millisecond)
			c := l.finish().add(flood.finish())

			if took > deadline+3*time.Second { // not a speed test: a Close that waited for the endpoint would take 10 s
				t.Errorf("Close took %v with a deadline of %v", took, deadline)
			}
			settle(t, tr)
			st := tr.Stats()
			if st.AfterClose == 0 {
				t.Errorf("no Capture came after Close: the load did not race it")
			}
			dead := readDeadLetter(t, dl)
			inFile, _ := readEvents(t, path)
			fp := audit(t, c, st, outcome{sink: "posthog", delivered: e.srv.Accepted(), deadLettered: dead["posthog"]},
				// A Write that outlives the deadline is dead-lettered, and may
				// deliver part of it still: duplicates (never in the dead
				// letter twice).
				h, expect{afterWrite: true, duplicates: true})
			ff := audit(t, c, st, outcome{sink: "file", delivered: inFile, deadLettered: dead["file"]}, h, expect{})
			checkCloseNamesEachOnce(t, closeErr, dl, len(dead["posthog"])-int(st.Sinks["posthog"].Dropped.Closed))
			if fp.DeadLettered == 0 {
				t.Errorf("PostHog's outage was not met: nothing undelivered")
			}

			e.set(healthy)
			fp.Replayed = replay(t, dl, "posthog", e.newSink(t))
			mustComplete(t, c, fp, "posthog", e.srv.Accepted(), h)
			if len(dead["file"]) > 0 {
				ff.Replayed, inFile = replayIntoFile(t, dl, path)
			}
			mustComplete(t, c, ff, "file", inFile, h)
			logFigures(t, fp, ff)
			t.Logf("Close returned in %v (deadline %v): %v", took.Round(time.Millisecond), deadline, closeErr)
		})
	}
}

// checkCloseNamesEachOnce checks Close's error against the dead letter,
// where PostHog's undelivered events are, once each (audit): it counts
// each of the n events Close could not deliver once (those that raced it
// are counted in Dropped.Closed instead), all in the dead letter; when
// PostHog's sink was still running at the deadline, it says so and where
// the events the sink gives up on later go, and counts only those reported
// before it returned.
func checkCloseNamesEachOnce(t *testing.T, closeErr error, deadLetter string, n int) {
	t.Helper()
	ue := undeliveredOf(closeErr, "posthog")
	found := ue != nil
	if found && ue.DeadLettered != ue.Count {
		t.Errorf("Close: %v; want an *UndeliveredError for posthog, every event in the dead letter", closeErr)
	}
	if errors.Is(closeErr, tracker.ErrStillRunning) {
		if !strings.Contains(closeErr.Error(), deadLetter) {
			t.Errorf("Close: %v; a sink still running, but where its later reports go is not named", closeErr)
		}
		if found && ue.Count > n {
			t.Errorf("Close: %v; counts %d events not delivered, the dead letter has %d", closeErr, ue.Count, n)
		}
		return
	}
	if !found || ue.Count != n {
		t.Errorf("Close: %v; want an *UndeliveredError counting the %d events in the dead letter, once each", closeErr, n)
	}
}

// undeliveredOf finds sink's *UndeliveredError in err, which joins one for
// each sink that did not deliver everything (on a loaded machine the file
// sink's Write can outrun the deadline too), or nil.
func undeliveredOf(err error, sink string) *tracker.UndeliveredError {
	if ue, ok := err.(*tracker.UndeliveredError); ok && ue.Sink == sink {
		return ue
	}
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if ue := undeliveredOf(e, sink); ue != nil {
				return ue
			}
		}
	case interface{ Unwrap() error }:
		return undeliveredOf(x.Unwrap(), sink)
	}
	return nil
}
