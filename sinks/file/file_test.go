package file_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

var ts = time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)

// ev returns a 5-property event numbered i (its UUID), as the benchmarks use.
func ev(i int) tracker.Event {
	return tracker.Event{
		UUID: fmt.Sprintf("event-%08d", i), Name: "query_initiated", DistinctID: "org_42", Timestamp: ts,
		Groups: map[string]string{"organization": "org_42"},
		Properties: map[string]any{
			"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "duration_ms": 12.5, "rows": i, "cached": false,
		},
	}
}

// pad is a 1 KiB property value: rotation tests reach a MiB with fewer
// events to encode.
var pad = strings.Repeat("x", 1<<10)

// padded returns batch(from, n) with a pad property on each event (~1.3 KiB
// a line).
func padded(from, n int) []tracker.Event {
	b := batch(from, n)
	for i := range b {
		b[i].Properties["pad"] = pad
	}
	return b
}

func batch(from, n int) []tracker.Event {
	b := make([]tracker.Event, n)
	for i := range b {
		b[i] = ev(from + i)
	}
	return b
}

func newSink(t *testing.T, path string, opts ...file.Option) *file.Sink {
	t.Helper()
	s, err := file.New(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// readIDs reads the event files in order and returns the UUIDs of their
// events, failing on any bad line or warning.
func readIDs(t *testing.T, paths ...string) []string {
	t.Helper()
	var ids []string
	for _, p := range paths {
		events, warnings, err := eventline.ReadFile(p)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %v", p, err, warnings)
		}
		for _, e := range events {
			ids = append(ids, e.UUID)
		}
	}
	return ids
}

func TestWriteThenReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path)
	want := batch(0, 100)
	if err := s.Write(ctx, want[:60]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, want[60:]); err != nil {
		t.Fatal(err)
	}
	// Every Write reaches the OS before it returns: readable without Flush.
	got, warnings, err := eventline.ReadFile(path)
	if err != nil || len(warnings) > 0 || len(got) != len(want) {
		t.Fatalf("read %d events, %v %v", len(got), err, warnings)
	}
	for i := range want {
		if got[i].UUID != want[i].UUID || got[i].Properties["rows"] != int64(i) || !got[i].Timestamp.Equal(ts) {
			t.Fatalf("event %d: %+v", i, got[i])
		}
	}
}

func TestModes(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "events.jsonl")
	s := newSink(t, path)
	if err := s.Write(ctx, batch(0, 1)); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		filepath.Join(root, "a"):      os.ModeDir | file.DirMode,
		filepath.Join(root, "a", "b"): os.ModeDir | file.DirMode,
		path:                          file.FileMode,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestAppendsToExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for round := range 3 {
		s, err := file.New(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, batch(round*10, 10)); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ids := readIDs(t, path); len(ids) != 30 || ids[0] != "event-00000000" || ids[29] != "event-00000029" {
		t.Fatalf("ids %v", ids)
	}
}

// TestRotationLosesNoLine writes from several goroutines through rotations
// and counts every line across the file and its backups.
func TestRotationLosesNoLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	s := newSink(t, path, file.WithMaxSizeMB(1), file.WithMaxBackups(0), file.WithSync(file.SyncNever))
	const writers, batches, per = 4, 12, 100 // 4800 lines of ~1.3 KiB: ~6 MiB
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				if err := s.Write(ctx, padded((w*batches+b)*per, per)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	backups, err := s.Backups()
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) < 4 {
		t.Fatalf("%d backups after ~6 MiB at 1 MiB each", len(backups))
	}
	seen := make(map[string]int)
	for _, p := range append(backups, path) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1<<20 || fi.Mode() != file.FileMode {
			t.Errorf("%s: %d bytes, mode %v", p, fi.Size(), fi.Mode())
		}
		for _, id := range readIDs(t, p) {
			seen[id]++
		}
	}
	if len(seen) != writers*batches*per {
		t.Fatalf("%d distinct events across the files, want %d", len(seen), writers*batches*per)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s written %d times", id, n)
		}
	}
}

func TestRotationKeepsMaxBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	s := newSink(t, path, file.WithMaxSizeMB(1), file.WithMaxBackups(2))
	const total = 5000 // ~6.5 MiB
	for b := 0; b < total; b += 100 {
		if err := s.Write(ctx, padded(b, 100)); err != nil {
			t.Fatal(err)
		}
	}
	backups, err := s.Backups()
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 2 {
		t.Fatalf("backups %v, want 2", backups)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 3 {
		t.Fatalf("directory holds %d entries, want the file and 2 backups (%v)", len(entries), err)
	}
	// What is kept is the newest lines, contiguous up to the last one.
	ids := readIDs(t, append(backups, path)...)
	first := total - len(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("event-%08d", first+i); id != want {
			t.Fatalf("line %d of the kept files is %s, want %s", i, id, want)
		}
	}
	if len(ids) < 2*(1<<20)/1500 {
		t.Fatalf("only %d lines kept in 2 backups and the file", len(ids))
	}
}

func TestTornTailIsRotatedAway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	line, err := eventline.Append(nil, &tracker.Event{Name: "before_crash", Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(line, `{"uuid":"x","event":"torn`...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, path)
	if err := s.Write(ctx, batch(0, 2)); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, path); len(ids) != 2 {
		t.Fatalf("new file holds %v", ids)
	}
	backups, err := s.Backups()
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v %v", backups, err)
	}
	events, warnings, err := eventline.ReadFile(backups[0])
	if err != nil || len(events) != 1 || events[0].Name != "before_crash" || len(warnings) != 1 || !errors.Is(warnings[0], eventline.ErrTornLine) {
		t.Fatalf("backup: %v events, warnings %v, %v", len(events), warnings, err)
	}
}

func TestDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	for _, sync := range []file.Sync{file.SyncAlways, file.SyncInterval, file.SyncNever} {
		t.Run(sync.String(), func(t *testing.T) {
			s := newSink(t, "/dev/full", file.WithSync(sync))
			for range 2 { // the sink stays usable after a failure
				err := s.Write(ctx, batch(0, 3))
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("got %v, want ENOSPC", err)
				}
				if want := "file sink /dev/full: 3 events not written: write /dev/full: no space left on device"; err.Error() != want {
					t.Fatalf("error %q, want %q", err, want)
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatalf("Flush after a failed Write: %v", err)
			}
		})
	}
}

func TestOpenErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		opts       []file.Option
		want       string
	}{
		{"empty path", "", nil, "file sink: a path is required"},
		{"parent is a file", filepath.Join(notDir, "events.jsonl"), nil, "file sink " + filepath.Join(notDir, "events.jsonl") + ": mkdir " + notDir + ": not a directory"},
		{"path is a directory", dir, nil, "file sink " + dir + ": open " + dir + ": is a directory"},
		{"bad options", filepath.Join(dir, "x"), []file.Option{file.WithMaxSizeMB(-1), file.WithMaxBackups(-2), file.WithSync(9)},
			"file sink " + filepath.Join(dir, "x") + ": unknown Sync(9): want SyncAlways, SyncInterval or SyncNever; max size -1 MB is negative (0 turns rotation off); max backups -2 is negative (0 keeps every backup)"},
		// 2^44+1 MiB once wrapped to 1 MiB in bytes: rotation then deleted
		// events that Stats counted delivered.
		{"sizes out of range", filepath.Join(dir, "y"), []file.Option{file.WithMaxSizeMB(17592186044417), file.WithMaxBackups(file.MaxBackupsLimit + 1)},
			"file sink " + filepath.Join(dir, "y") + ": max size 17592186044417 MB is too large: want 0 to 1048576 (0 turns rotation off); max backups 100001 is too many: want 0 to 100000 (0 keeps every backup)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := file.New(tc.path, tc.opts...)
			if err == nil || err.Error() != tc.want || s != nil {
				t.Fatalf("got %v, %v; want %s", s, err, tc.want)
			}
		})
	}
}

// TestRecoversWhenTheDirectoryComesBack: a rotation that cannot reopen the
// file fails that Write with a clear error; a later Write reopens it.
func TestRecoversWhenTheDirectoryComesBack(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	path := filepath.Join(dir, "events.jsonl")
	s := newSink(t, path, file.WithMaxSizeMB(1), file.WithMaxBackups(1))
	if err := s.Write(ctx, padded(0, 700)); err != nil { // ~0.9 MiB
		t.Fatal(err)
	}
	moved := filepath.Join(root, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // a file where the directory was
		t.Fatal(err)
	}
	err := s.Write(ctx, padded(3000, 300))
	if !strings.HasPrefix(err.Error(), "file sink "+path+": 300 events not written: ") || !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("got %v, want an error naming %s and 300 events, ENOTDIR", err, path)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, batch(9000, 5)); err != nil {
		t.Fatalf("Write after the directory came back: %v", err)
	}
	if ids := readIDs(t, path); len(ids) != 5 || ids[0] != "event-00009000" {
		t.Fatalf("new file holds %d lines", len(ids))
	}
}

func TestUnencodableEventIsSkippedAndNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path)
	b := batch(0, 3)
	b[1].Properties = map[string]any{"ratio": math.Inf(1)}
	err := s.Write(ctx, b)
	if !errors.Is(err, eventline.ErrUnencodable) || err.Error() != `file sink `+path+`: event "query_initiated" not written: property "ratio": +Inf: not JSON-encodable` {
		t.Fatalf("got %v", err)
	}
	if ids := readIDs(t, path); len(ids) != 2 || ids[1] != "event-00000002" {
		t.Fatalf("file holds %v", ids)
	}
}

// failingMarshaler passes the tracker's checks on the caller and fails when
// the sink encodes it.
type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot marshal") }

func TestUnencodableEventGoesToUndelivered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path)
	var reported []tracker.Event
	var reasons []error
	s.SetUndelivered(func(events []tracker.Event, reason error) {
		reported = append(reported, events...)
		reasons = append(reasons, reason)
	})
	b := batch(0, 3)
	b[1].Properties = map[string]any{"custom": failingMarshaler{}}
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("Write: %v (the bad event goes to the reporter)", err)
	}
	if len(reported) != 1 || reported[0].UUID != "event-00000001" || !errors.Is(reasons[0], eventline.ErrUnencodable) {
		t.Fatalf("reported %v, %v", reported, reasons)
	}
	if ids := readIDs(t, path); len(ids) != 2 || ids[1] != "event-00000002" {
		t.Fatalf("file holds %v", ids)
	}
}

func TestConcurrentSinksOnDifferentFiles(t *testing.T) {
	dir := t.TempDir()
	const sinks, per = 6, 500
	var wg sync.WaitGroup
	paths := make([]string, sinks)
	for i := range sinks {
		paths[i] = filepath.Join(dir, fmt.Sprintf("sink%d", i), "events.jsonl")
		s := newSink(t, paths[i], file.WithSync(file.Sync(i%3)))
		wg.Go(func() {
			for b := 0; b < per; b += 100 {
				if err := s.Write(ctx, batch(i*per+b, 100)); err != nil {
					t.Error(err)
					return
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, p := range paths {
		ids := readIDs(t, p)
		if len(ids) != per || ids[0] != fmt.Sprintf("event-%08d", i*per) || ids[per-1] != fmt.Sprintf("event-%08d", i*per+per-1) {
			t.Fatalf("%s: %d lines", p, len(ids))
		}
	}
}

// Sinks on one path in one process share its writer: their lines never
// interleave or tear, one Close leaves the others writing, and the last
// closes the file. A Sink that asks for other options is refused.
func TestSinksOnOnePathShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	a, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(mustGetwd(t), path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := file.New(rel)
	if err != nil {
		t.Fatalf("second sink on the same file: %v", err)
	}
	if _, err := file.New(path, file.WithSync(file.SyncAlways)); err == nil || !strings.Contains(err.Error(), "already open in this process with other options") {
		t.Fatalf("a sink with other options: %v", err)
	}
	const per = 200
	var wg sync.WaitGroup
	for i, s := range []*file.Sink{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per / 10 {
				if err := s.Write(ctx, padded(i*per+j*10, 10)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, batch(2*per, 1)); err != nil {
		t.Fatalf("writing after the other sink closed: %v", err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, path); len(ids) != 2*per+1 {
		t.Fatalf("file holds %d events, want %d", len(ids), 2*per+1)
	}
	newSink(t, path, file.WithSync(file.SyncAlways)) // free again after the last Close
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := file.New(path, file.WithSync(file.SyncInterval))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, batch(0, 1)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, batch(1, 1)); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := s.Flush(ctx); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	if ids := readIDs(t, path); len(ids) != 1 {
		t.Fatalf("file holds %v", ids)
	}
}

func TestCancelledContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cctx, batch(0, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Flush(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush: %v", err)
	}
}

func TestParseSync(t *testing.T) {
	cases := []struct {
		in   string
		want file.Sync
		err  string
	}{
		{"", file.SyncInterval, ""},
		{"interval", file.SyncInterval, ""},
		{"ALWAYS", file.SyncAlways, ""},
		{" never", file.SyncNever, ""},
		{"sometimes", file.SyncInterval, `file sync "sometimes": want always, interval or never`},
	}
	for _, tc := range cases {
		got, err := file.ParseSync(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseSync(%q) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.err)
		}
		if back, err := file.ParseSync(got.String()); err != nil || back != got {
			t.Errorf("ParseSync(%v.String()) = %v, %v", got, back, err)
		}
	}
}
