package faults

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// reopenWithin is how long the file sink may take to notice that its path
// no longer names the file it writes (issue 9 item 1 allows a check per
// batch or on a short interval).
const reopenWithin = 1500 * time.Millisecond

// TestFileDeletedOrRenamedUnderTheSinkIsReopened deletes, or renames away
// (logrotate's "create" style), the file a file sink writes while events
// flow. Events written before are in the old file; events captured once
// the sink had time to notice must be in a new file at the path, not in an
// inode nobody can open.
func TestFileDeletedOrRenamedUnderTheSinkIsReopened(t *testing.T) {
	cases := []struct {
		name string
		move func(path string) error
	}{
		{"deleted", os.Remove},
		{"renamed", func(path string) error { return os.Rename(path, path+".1") }},
	}
	sc := size()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, dl := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "dead-letter.jsonl")
			tr, h := newFileTracker(t, path, dl)
			l := startLoad(t, tr, sc)
			time.Sleep(sc.healthy)
			if err := tr.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Keep the old file readable: what was written to it before the
			// move was delivered, to a file the operator then removed.
			old, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if err := tc.move(path); err != nil {
				t.Fatal(err)
			}
			time.Sleep(reopenWithin)
			if err := tr.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			mark := l.mark()
			time.Sleep(sc.recovered)
			c := l.finish()
			if err := tr.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}

			inOld := readOpen(t, old)
			inNew := map[string]int{}
			if _, err := os.Stat(path); err == nil {
				inNew, _ = readEvents(t, path)
			}
			delivered := map[string]int{}
			for _, m := range []map[string]int{inOld, inNew} {
				for u, n := range m {
					delivered[u] += n
				}
			}
			st := tr.Stats()
			f := audit(t, c, st, outcome{sink: "file", delivered: delivered, deadLettered: readDeadLetter(t, dl)["file"]}, h, expect{})
			logFigures(t, f)
			t.Logf("%d events in the old file, %d in the new one", len(inOld), len(inNew))

			var lostToOld, missing []string
			for _, u := range l.after(mark) {
				switch {
				case inNew[u] > 0:
				case inOld[u] > 0:
					lostToOld = append(lostToOld, u)
				default:
					missing = append(missing, u)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%d events captured %v after the file was %s are in neither file", len(missing), reopenWithin, tc.name)
			}
			if len(lostToOld) > 0 {
				slices.Sort(lostToOld)
				t.Errorf("%d events captured %v after the file was %s went to the old file (first %s), not to a new one at %s",
					len(lostToOld), reopenWithin, tc.name, lostToOld[0], path)
			}
		})
	}
}

// newFileTracker is a tracker whose one sink, "file", writes path, with a
// dead letter at dl and the hook logged.
func newFileTracker(t *testing.T, path, dl string) (*tracker.Tracker, *hookLog) {
	t.Helper()
	sink, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	h := newHookLog()
	return newTracker(t, tracker.WithSink("file", sink), tracker.WithDeadLetter(dl), h.option()), h
}

// replayIntoFile replays the dead letter's "file" events into a new file
// sink at path, and returns how many, and what the file holds then.
func replayIntoFile(t *testing.T, dl, path string) (int, map[string]int) {
	t.Helper()
	dst, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	n := replay(t, dl, "file", dst)
	inFile, _ := readEvents(t, path)
	return n, inFile
}

// readOpen reads the event lines of an open file from its start.
func readOpen(t *testing.T, f *os.File) map[string]int {
	t.Helper()
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	r := eventline.NewReader(f, f.Name())
	m := map[string]int{}
	for {
		e, err := r.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("reading the old file: %v", err)
			}
			return m
		}
		m[e.UUID]++
	}
}
