package file_test

import (
	"bufio"
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

	"github.com/rs/zerolog"

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

// e2eProps are the 5 properties of the end-to-end benchmark's event.
var e2eProps = map[string]any{
	"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "duration_ms": 12.5, "rows": 1042, "cached": false,
}

// e2eTracker writes events through a tracker to a file sink in dir; flush
// is a barrier that returns once the file has every event captured so far
// (in the OS: SyncNever, as the zerolog side does not fsync either).
type e2eTracker struct {
	tr  *tracker.Tracker
	ctx context.Context
	e   tracker.Event
}

func newE2ETracker(b *testing.B, dir string) *e2eTracker {
	s, err := file.New(filepath.Join(dir, "tracker.jsonl"), file.WithMaxSizeMB(0), file.WithSync(file.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", s, blocking()...))
	if err != nil {
		b.Fatal(err)
	}
	return &e2eTracker{tr: tr, ctx: tracker.WithOrganization(context.Background(), "org_42"), e: tracker.Event{Name: "query_initiated", Properties: e2eProps}}
}

func (t *e2eTracker) write(n int) {
	for range n {
		t.tr.Capture(t.ctx, t.e)
	}
}

func (t *e2eTracker) flush(b *testing.B) {
	if err := t.tr.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func (t *e2eTracker) close(b *testing.B, want int) {
	if err := t.tr.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := t.tr.Stats().Sinks["file"]; st.Delivered != uint64(want) {
		b.Fatalf("delivered %d of %d: %+v", st.Delivered, want, st)
	}
}

// e2eZerolog writes the same events with zerolog to a bufio.Writer on a file
// in dir.
type e2eZerolog struct {
	f   *os.File
	w   *bufio.Writer
	log zerolog.Logger
}

func newE2EZerolog(b *testing.B, dir string) *e2eZerolog {
	f, err := os.OpenFile(filepath.Join(dir, "zerolog.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	return &e2eZerolog{f: f, w: w, log: zerolog.New(w)}
}

func (z *e2eZerolog) write(n int) {
	const uuid = "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f"
	for range n {
		z.log.Log().
			Str("uuid", uuid).
			Str("event", "query_initiated").
			Str("distinct_id", "org_42").
			Time("timestamp", time.Now()).
			Dict("groups", zerolog.Dict().Str("organization", "org_42")).
			Dict("properties", zerolog.Dict().
				Bool("cached", false).
				Float64("duration_ms", 12.5).
				Int("rows", 1042).
				Str("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736").
				Str("user", "alice")).
			Send()
	}
}

func (z *e2eZerolog) flush(b *testing.B) {
	if err := z.w.Flush(); err != nil {
		b.Fatal(err)
	}
}

func (z *e2eZerolog) close(b *testing.B) {
	if err := errors.Join(z.w.Flush(), z.f.Close()); err != nil {
		b.Fatal(err)
	}
}

// e2eWriter is one side of the end-to-end benchmark.
type e2eWriter interface {
	write(n int)
	flush(b *testing.B)
}

// runE2E times b.N events through w, up to the OS.
func runE2E(b *testing.B, w e2eWriter) {
	b.ReportAllocs()
	b.ResetTimer()
	w.write(b.N)
	w.flush(b)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
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

// BenchmarkEndToEnd writes b.N 5-property events to a file through the
// tracker and the file sink, and the same events with zerolog to a
// bufio.Writer on a file in the same directory; each ends with its data
// handed to the OS. Run with -benchtime=1000000x for the 1M events.
//
// The "interleaved" case runs both in twenty alternating rounds and reports
// both rates, their ratio (target ≥ 0.7), and the median of the rounds'
// ratios, so that load from elsewhere on the machine weighs on both alike
// and a burst of it skews one round, not the figure.
func BenchmarkEndToEnd(b *testing.B) {
	b.Run("tracker_file_sink", func(b *testing.B) {
		t := newE2ETracker(b, b.TempDir())
		runE2E(b, t)
		t.close(b, b.N)
	})
	b.Run("zerolog_bufio", func(b *testing.B) {
		z := newE2EZerolog(b, b.TempDir())
		runE2E(b, z)
		z.close(b)
	})
	b.Run("interleaved", func(b *testing.B) {
		dir := b.TempDir()
		t, z := newE2ETracker(b, dir), newE2EZerolog(b, dir)
		const rounds = 20
		var inTracker, inZerolog time.Duration
		ratios := make([]float64, 0, rounds)
		written := 0
		for r := range rounds {
			n := (b.N*(r+1))/rounds - written
			written += n
			start := time.Now()
			t.write(n)
			t.flush(b)
			dt := time.Since(start)
			start = time.Now()
			z.write(n)
			z.flush(b)
			dz := time.Since(start)
			inTracker += dt
			inZerolog += dz
			ratios = append(ratios, dz.Seconds()/dt.Seconds())
		}
		b.StopTimer()
		slices.Sort(ratios)
		b.ReportMetric(float64(b.N)/inTracker.Seconds(), "tracker_events/s")
		b.ReportMetric(float64(b.N)/inZerolog.Seconds(), "zerolog_events/s")
		b.ReportMetric(inZerolog.Seconds()/inTracker.Seconds(), "ratio")
		b.ReportMetric(ratios[len(ratios)/2], "median_round_ratio")
		t.close(b, b.N)
		z.close(b)
	})
}

// BenchmarkSinkWrite is the file sink's own share of the end-to-end path:
// batches of 256 resolved events (UUID, timestamp, organization set, as the
// tracker hands them over) through Write, to compare with zerolog_bufio
// above, which does all of its work on the caller.
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
