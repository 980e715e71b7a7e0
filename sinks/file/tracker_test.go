package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// blocking makes a sink's queue wait for room instead of dropping, so that
// every captured event reaches the sink.
func blocking() []tracker.SinkOption {
	return []tracker.SinkOption{tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)}
}

// TestTrackerFileSinkBesideDevFull: a second file sink on /dev/full fails
// every Write, counted; the first gets every event, in order per goroutine.
func TestTrackerFileSinkBesideDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	good, err := file.New(path, file.WithMaxSizeMB(1), file.WithMaxBackups(0))
	if err != nil {
		t.Fatal(err)
	}
	full, err := file.New("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(
		tracker.WithSink("file", good, blocking()...),
		tracker.WithSink("full", full, blocking()...),
	)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, per = 4, 1000 // ~5 MiB: rotations under concurrent capture
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				e := ev(g*per + i)
				e.UUID = "" // the tracker assigns UUIDv7s
				e.Properties = map[string]any{"g": g, "i": i, "user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "pad": pad}
				tr.Capture(context.Background(), e)
			}
		})
	}
	wg.Wait()
	// Close names the failing sink, and only it.
	err = tr.Close(context.Background())
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Sink != "full" || ue.Count != goroutines*per || !strings.Contains(err.Error(), "/dev/full") || strings.Contains(err.Error(), `"file"`) {
		t.Fatalf("Close: %v", err)
	}

	st := tr.Stats()
	fs, ds := st.Sinks["file"], st.Sinks["full"]
	if st.Captured != goroutines*per || fs.Delivered != goroutines*per || fs.Failed != 0 {
		t.Fatalf("file sink stats %+v (captured %d)", fs, st.Captured)
	}
	if ds.Delivered != 0 || ds.Failed != goroutines*per || ds.WriteErrors == 0 || ds.WriteErrors != ds.Batches {
		t.Fatalf("/dev/full sink stats %+v", ds)
	}

	backups, err := good.Backups()
	if err != nil || len(backups) < 2 {
		t.Fatalf("backups %v, %v: want rotations", backups, err)
	}
	next := make([]int64, goroutines) // the next i expected from each goroutine
	uuids := make(map[string]bool)
	for _, p := range append(backups, path) {
		events, warnings, err := eventline.ReadFile(p)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %v", p, err, warnings)
		}
		for _, e := range events {
			g, i := e.Properties["g"].(int64), e.Properties["i"].(int64)
			if i != next[g] {
				t.Fatalf("%s: goroutine %d event %d follows %d", p, g, i, next[g]-1)
			}
			next[g]++
			uuids[e.UUID] = true
		}
	}
	for g, n := range next {
		if n != per {
			t.Errorf("goroutine %d: %d events in the files, want %d", g, n, per)
		}
	}
	if len(uuids) != goroutines*per {
		t.Errorf("%d distinct UUIDs, want %d", len(uuids), goroutines*per)
	}
}

// TestTrackerFlushReachesTheFile: Tracker.Flush is a barrier down to the
// file (through the Flusher), not just to the sink's Write.
func TestTrackerFlushReachesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", s, tracker.WithFlushInterval(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	for i := range 10 {
		tr.Capture(context.Background(), ev(i))
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, path); len(ids) != 10 {
		t.Fatalf("after Flush the file holds %d events, want 10", len(ids))
	}
}

// e2eProps are the 5 properties of BenchmarkSinkWrite's event.
var e2eProps = map[string]any{
	"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "duration_ms": 12.5, "rows": 1042, "cached": false,
}

// TestTrackerCountsAnEventTheSinkCannotEncode: an event that passes the
// tracker's checks but fails to encode in the sink is reported as
// undelivered, the rest of its batch is written, and the numbers add up.
func TestTrackerCountsAnEventTheSinkCannotEncode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", s), tracker.WithDeadLetter(filepath.Join(dir, "dead.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e := ev(i)
		if i == 2 {
			e.Properties = map[string]any{"custom": &laterFailingMarshaler{}}
		}
		tr.Capture(context.Background(), e)
	}
	// Close names the event that could not be written anywhere, not even
	// to the dead letter (it shares the encoder).
	err = tr.Close(context.Background())
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Count != 1 || ue.DeadLettered != 0 || !errors.Is(err, eventline.ErrUnencodable) {
		t.Fatalf("Close: %v", err)
	}
	st := tr.Stats()
	fs := st.Sinks["file"]
	if fs.Delivered != 5 || fs.Undelivered != 1 || fs.Failed != 0 || fs.DeadLettered != 0 || st.DeadLetterErrors != 1 {
		t.Fatalf("stats %+v, sink %+v", st, fs)
	}
	if ids := readIDs(t, path); len(ids) != 4 {
		t.Fatalf("file holds %v", ids)
	}
}

// BenchmarkSinkWrite is the file sink's own share of the end-to-end path
// (bench.BenchmarkFile): batches of 256 resolved events (UUID, timestamp,
// organization set, as the tracker hands them over) through Write.
func BenchmarkSinkWrite(b *testing.B) {
	s, err := file.New(filepath.Join(b.TempDir(), "events.jsonl"), file.WithMaxSizeMB(0), file.WithSync(file.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	batch := make([]tracker.Event, 256)
	for i := range batch {
		batch[i] = tracker.Event{
			UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f", Name: "query_initiated", DistinctID: "org_42", Timestamp: time.Now(),
			Groups: map[string]string{"organization": "org_42"}, Properties: e2eProps,
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(batch) {
		n := min(len(batch), b.N-done)
		if err := s.Write(context.Background(), batch[:n]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestTrackerUnencodableEventInAFailedBatch: when the file cannot be
// written, a batch holding an event the sink cannot encode fails as a whole,
// and that event is accounted for once, not also reported undelivered.
func TestTrackerUnencodableEventInAFailedBatch(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	full, err := file.New("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	tr, err := tracker.New(
		tracker.WithSink("full", full, tracker.WithBatchSize(100), tracker.WithFlushInterval(time.Hour)),
		tracker.WithDeadLetter(dead),
	)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	for i := range n {
		e := ev(i)
		if i == 0 {
			e.Properties = map[string]any{"custom": &laterFailingMarshaler{}}
		}
		tr.Capture(context.Background(), e)
	}
	err = tr.Close(context.Background()) // one batch: the worker wakes only for Close
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Count != n || ue.DeadLettered != n-1 {
		t.Fatalf("Close: %v", err)
	}
	st := tr.Stats()
	fs := st.Sinks["full"]
	if fs.Failed+fs.Undelivered != n || st.DeadLetterErrors != 1 || fs.DeadLettered != n-1 {
		t.Fatalf("stats %+v, sink %+v: want %d events failed once, the unencodable one not dead-lettered", st, fs, n)
	}
	if ids := readIDs(t, dead); len(ids) != n-1 || slices.Contains(ids, ev(0).UUID) {
		t.Fatalf("dead letter holds %v", ids)
	}
}

// laterFailingMarshaler encodes the first time, when the tracker checks the
// event on the caller, and fails after that, when the sink encodes it.
type laterFailingMarshaler struct{ calls atomic.Int32 }

func (m *laterFailingMarshaler) MarshalJSON() ([]byte, error) {
	if m.calls.Add(1) == 1 {
		return []byte(`"ok"`), nil
	}
	return nil, errors.New("cannot marshal")
}
