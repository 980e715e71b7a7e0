package file_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// writeOK writes batch(from, n) and fails the test on an error.
func writeOK(t *testing.T, s *file.Sink, from, n int) {
	t.Helper()
	if err := s.Write(ctx, batch(from, n)); err != nil {
		t.Fatal(err)
	}
}

// checkIDs checks that path holds the events numbered from to from+n-1,
// in order, and has mode want.
func checkIDs(t *testing.T, path string, from, n int, want os.FileMode) {
	t.Helper()
	ids := readIDs(t, path)
	if len(ids) != n {
		t.Fatalf("%s holds %d events, want %d: %v", path, len(ids), n, ids)
	}
	for i, id := range ids {
		if wantID := batch(from+i, 1)[0].UUID; id != wantID {
			t.Fatalf("%s: line %d is %s, want %s", path, i+1, id, wantID)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
		t.Fatalf("%s: %v, %v; want mode %v", path, fi.Mode(), err, want)
	}
}

// After the file is deleted (rm events.jsonl, or its whole directory), the
// next batch goes to the path again, recreated with mode 0600 (directory
// 0700), not to the deleted file.
func TestWritesReachThePathAfterTheFileIsDeleted(t *testing.T) {
	for _, c := range []struct {
		name   string
		remove func(path string) error
	}{
		{"file", os.Remove},
		{"directory", func(path string) error { return os.RemoveAll(filepath.Dir(path)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "logs", "events.jsonl")
			var log bytes.Buffer
			s := newSink(t, path, file.WithLogger(zerolog.New(&log)))
			writeOK(t, s, 0, 10)
			if err := c.remove(path); err != nil {
				t.Fatal(err)
			}
			writeOK(t, s, 10, 10)
			writeOK(t, s, 20, 10)
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			checkIDs(t, path, 10, 20, file.FileMode)
			if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode() != os.ModeDir|file.DirMode {
				t.Fatalf("directory: %v, %v", fi.Mode(), err)
			}
			if st := s.Stats(); st.Reopens != 1 || st.Truncations != 0 {
				t.Errorf("Stats = %+v, want one reopen", st)
			}
			want := `{"level":"warn","path":"` + path + `","file":"deleted or renamed","message":"multitrack: file sink: the file was moved or deleted; writing to a new file at the path"}` + "\n"
			if log.String() != want {
				t.Errorf("log:\n%s\nwant it once:\n%s", log.String(), want)
			}
		})
	}
}

// logrotate's "create" style renames the file, then (at once, or after a
// while) creates a new one with its own mode: the lines written before the
// rename stay in the renamed file, the next batch goes to the path.
func TestRenamedFileIsFollowedByTheNextBatch(t *testing.T) {
	for _, c := range []struct {
		name   string
		create bool // logrotate's create: a new, empty file at the path
	}{
		{"renamed", false},
		{"renamed and created", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			s := newSink(t, path)
			writeOK(t, s, 0, 10)
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			mode := file.FileMode
			if c.create {
				mode = 0o640
				if err := os.WriteFile(path, nil, mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, mode); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			writeOK(t, s, 10, 10)
			writeOK(t, s, 20, 10)
			checkIDs(t, path+".1", 0, 10, file.FileMode)
			checkIDs(t, path, 10, 20, mode)
			if st := s.Stats(); st.Reopens != 1 || st.Truncations != 0 {
				t.Errorf("Stats = %+v, want one reopen", st)
			}
		})
	}
}

// logrotate's "copytruncate" style copies the file, then truncates it under
// the open descriptor: the next lines start the file again (O_APPEND: no
// hole of NUL bytes where the old lines were), and the size that rotation
// goes by is the file's, not the old one's.
func TestTruncatedFileIsWrittenFromItsStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s := newSink(t, path, file.WithMaxSizeMB(1), file.WithMaxBackups(0))
	if err := s.Write(ctx, padded(0, 700)); err != nil { // ~0.9 MiB
		t.Fatal(err)
	}
	copyFile(t, path, path+".1")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, padded(700, 300)); err != nil { // ~0.4 MiB: no rotation
		t.Fatal(err)
	}
	if backups, err := s.Backups(); err != nil || len(backups) != 0 {
		t.Fatalf("backups %v, %v: the sink rotated by the size the file had before it was truncated", backups, err)
	}
	ids := readIDs(t, path)
	if len(ids) != 300 || ids[0] != "event-00000700" {
		t.Fatalf("the file holds %d events from %v", len(ids), ids[:min(len(ids), 1)])
	}
	if ids := readIDs(t, path+".1"); len(ids) != 700 {
		t.Fatalf("the copy holds %d events", len(ids))
	}
	if st := s.Stats(); st.Truncations != 1 || st.Reopens != 0 {
		t.Errorf("Stats = %+v, want one truncation and no reopen", st)
	}
	// Rotation still comes at the maximum size, counted from the truncation.
	if err := s.Write(ctx, padded(1000, 600)); err != nil { // ~0.8 MiB more: over 1 MiB
		t.Fatal(err)
	}
	backups, err := s.Backups()
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v, %v; want one rotation", backups, err)
	}
	if ids := readIDs(t, backups[0]); len(ids) != 300 {
		t.Fatalf("the backup holds %d events, want the 300 written after the truncation", len(ids))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// Through a tracker, as the issue found it: after rm, Stats said delivered
// and Close returned nil while the events went to the deleted file. Now
// every event delivered after the rm is in the file at the path.
func TestTrackerEventsAfterTheFileIsDeletedAreInTheNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", s))
	if err != nil {
		t.Fatal(err)
	}
	capture := func(from, n int) {
		for _, e := range batch(from, n) {
			tr.Capture(ctx, e)
		}
	}
	capture(0, 50)
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	capture(50, 50)
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats().Sinks["file"]; st.Delivered != 100 {
		t.Fatalf("stats %+v", st)
	}
	checkIDs(t, path, 50, 50, file.FileMode)
	if st := s.Stats(); st.Reopens != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}
