package tracker_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkUUIDv7 fails unless e carries a UUIDv7 whose time is its
// timestamp's millisecond.
func checkUUIDv7(t *testing.T, where string, e tracker.Event) {
	t.Helper()
	if !uuidV7.MatchString(e.UUID) {
		t.Fatalf("%s: event %q has UUID %q, want a UUIDv7", where, e.Name, e.UUID)
	}
	ms, err := strconv.ParseInt(e.UUID[:8]+e.UUID[9:13], 16, 64)
	if err != nil || ms != e.Timestamp.UnixMilli() {
		t.Fatalf("%s: UUID %s carries %d ms, the event's timestamp %d", where, e.UUID, ms, e.Timestamp.UnixMilli())
	}
}

// Capture fixes an event's UUID (its time and random bits) and each sink's
// worker writes its text: every sink gets the same UUIDv7 for an event,
// carrying the event's timestamp, and no two events share one.
func TestEverySinkGetsTheSameUUID(t *testing.T) {
	recs := []*trackertest.Recorder{trackertest.NewRecorder(), trackertest.NewRecorder(), trackertest.NewRecorder()}
	var opts []tracker.Option
	for i, r := range recs {
		opts = append(opts, tracker.WithSink(string(rune('a'+i)), r))
	}
	tr := mustNew(t, opts...)
	const n = 300
	for i := range n {
		tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
	}
	closeT(t, tr)
	first := recs[0].Events()
	seen := map[string]bool{}
	for i, e := range first {
		checkUUIDv7(t, "sink a", e)
		if seen[e.UUID] {
			t.Fatalf("UUID %s given twice", e.UUID)
		}
		seen[e.UUID] = true
		for _, r := range recs[1:] {
			if o := r.Events()[i]; o.UUID != e.UUID || o.Properties["i"] != e.Properties["i"] {
				t.Fatalf("event %v: UUID %s in one sink, %s (event %v) in another", e.Properties["i"], e.UUID, o.UUID, o.Properties["i"])
			}
		}
	}
	if len(seen) != n {
		t.Fatalf("%d UUIDs for %d events", len(seen), n)
	}
}

// Events that leave the tracker without reaching a sink (a full queue's
// drops, evictions, what Close's deadline leaves behind) carry their UUIDs
// too, to the undelivered hook and to the dead letter, the same as the
// sinks would have had.
func TestUndeliveredEventsCarryTheirUUIDs(t *testing.T) {
	for _, overflow := range []tracker.Overflow{tracker.DropNewest, tracker.DropOldest} {
		t.Run(overflow.String(), func(t *testing.T) {
			dead := filepath.Join(t.TempDir(), "dead.jsonl")
			stuck := newBlockingSink()
			var mu sync.Mutex
			var hooked []tracker.Event
			tr := mustNew(t,
				tracker.WithSink("stuck", stuck, tracker.WithQueueSize(4), tracker.WithBatchSize(2), tracker.WithOverflow(overflow)),
				tracker.WithDeadLetter(dead),
				tracker.WithUndeliveredHook(func(_ string, events []tracker.Event, _ error) {
					mu.Lock()
					hooked = append(hooked, events...)
					mu.Unlock()
				}))
			for i := range 50 {
				tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{"i": i}})
				if i == 2 {
					<-stuck.entered // the worker holds a batch; the queue fills
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_ = tr.Close(ctx) // the stuck Write is cut off at the deadline
			close(stuck.release)
			mu.Lock()
			defer mu.Unlock()
			if len(hooked) != 50 {
				t.Fatalf("the hook heard of %d events, want all 50 (none was delivered)", len(hooked))
			}
			ids := map[string]bool{}
			for _, e := range hooked {
				checkUUIDv7(t, "hook", e)
				ids[e.UUID] = true
			}
			if len(ids) != 50 {
				t.Fatalf("%d distinct UUIDs among 50 undelivered events", len(ids))
			}
			// The dead letter has what Close left behind, with the same UUIDs.
			lines := deadLettered(t, dead)["stuck"]
			if len(lines) == 0 {
				t.Fatal("nothing in the dead letter")
			}
			for _, id := range lines {
				if !ids[id] {
					t.Fatalf("dead letter holds %q, which the hook never heard of", id)
				}
			}
		})
	}
}

// Capture of a kept event allocates nothing: the UUID's text is the
// worker's to write. (The sink's worker does not run during the
// measurement: its batch and interval are never reached.)
func TestKeptCaptureAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tr := mustNew(t, tracker.WithSink("rec", trackertest.NewRecorder(),
		tracker.WithQueueSize(1<<20), tracker.WithBatchSize(1<<16), tracker.WithFlushInterval(time.Hour)))
	defer closeT(t, tr)
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	e := tracker.Event{Name: "query_initiated", Properties: map[string]any{"user": "alice", "rows": 42, "cached": false}}
	if allocs := testing.AllocsPerRun(1000, func() { tr.Capture(ctx, e) }); allocs != 0 {
		t.Fatalf("Capture allocates %.1f times per event, want 0", allocs)
	}
}
