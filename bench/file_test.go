package bench_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// BenchmarkFile compares the whole pipeline into the file sink (Capture,
// the queue, the worker, the event-line encoder, the file) with zerolog
// writing the same event lines (uuid, event, distinct_id, timestamp, groups,
// properties) through a 256 KiB bufio.Writer to a file in the same
// directory (target: ≥ 1.0× in events/s and in CPU per event). Each round
// ends with its events handed to the OS (Flush), and CPU time is the whole
// process's, the tracker's worker included. events/s and anchor-events/s
// are the two rates; x-anchor is the tracker's time over zerolog's (below 1
// is faster), cpu-x-anchor its CPU per event over zerolog's.
func BenchmarkFile(b *testing.B) {
	dir := b.TempDir()
	tr, sink := fileTracker(b, filepath.Join(dir, "tracker.jsonl"))
	z := newZerologFile(b, filepath.Join(dir, "zerolog.jsonl"))
	ctx, e := bench.OrgContext(), bench.Event()
	subject := bench.Side{Name: "multitrack", Run: func(n int) {
		for range n {
			tr.Capture(ctx, e)
		}
		if err := tr.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}}
	anchor := bench.Side{Name: "zerolog", Run: func(n int) { z.write(b, n) }}
	per, anchorPer := bench.Compare(b, 1<<14, true, anchor, subject)
	b.ReportMetric(float64(time.Second)/float64(per), "events/s")
	b.ReportMetric(float64(time.Second)/float64(anchorPer), "anchor-events/s")
	if err := tr.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := sink.Stats(); st.Reopens != 0 {
		b.Fatalf("file sink stats %+v", st)
	}
	if st := tr.Stats().Sinks["file"]; st.Delivered != uint64(b.N) {
		b.Fatalf("delivered %d of %d: %+v", st.Delivered, b.N, st)
	}
	z.close(b)
}

// fileTracker is a tracker with one file sink at path, rotation off and
// no fsync (as the zerolog side: the data reaches the OS, not the disk),
// whose queue blocks rather than drops, so that every event is written.
func fileTracker(tb testing.TB, path string) (*tracker.Tracker, *file.Sink) {
	tb.Helper()
	s, err := file.New(path, file.WithMaxSizeMB(0), file.WithSync(file.SyncNever))
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", s, tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr, s
}

// zerologFile writes the event lines with zerolog to a bufio.Writer on a
// file.
type zerologFile struct {
	f   *os.File
	w   *bufio.Writer
	log zerolog.Logger
}

func newZerologFile(tb testing.TB, path string) *zerologFile {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	return &zerologFile{f: f, w: w, log: zerolog.New(w)}
}

// write writes n event lines, each with a fresh timestamp, and hands them
// to the OS.
func (z *zerologFile) write(tb testing.TB, n int) {
	const uuid = "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f"
	for range n {
		z.log.Log().
			Str("uuid", uuid).
			Str("event", "query_initiated").
			Str("distinct_id", bench.Org).
			Time("timestamp", time.Now()).
			Dict("groups", zerolog.Dict().Str("organization", bench.Org)).
			Dict("properties", zerolog.Dict().
				Bool("cached", false).
				Float64("duration_ms", 12.5).
				Int("rows", 42).
				Str("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736").
				Str("user", "alice")).
			Send()
	}
	if err := z.w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

func (z *zerologFile) close(tb testing.TB) {
	if err := errors.Join(z.w.Flush(), z.f.Close()); err != nil {
		tb.Fatal(err)
	}
}
