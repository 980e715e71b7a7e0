package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

func (s *Sink) isDirty() bool {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.w.dirty
}

// TestIntervalSync runs the interval loop with a short period: after each
// Write the file is dirty until the loop has fsynced it. SyncAlways leaves
// it clean at once; SyncNever has no loop and leaves it dirty.
func TestIntervalSync(t *testing.T) {
	fast := func(c *config) { c.syncPeriod = time.Millisecond }
	write := func(s *Sink) {
		t.Helper()
		if err := s.Write(context.Background(), []tracker.Event{{Name: "e"}}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(sync Sync) *Sink {
		s, err := New(filepath.Join(t.TempDir(), "events.jsonl"), WithSync(sync), fast)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	}

	interval := open(SyncInterval)
	for range 3 {
		write(interval)
		deadline := time.Now().Add(time.Minute) // liveness, not speed
		for interval.isDirty() {
			if time.Now().After(deadline) {
				t.Fatal("the interval loop never fsynced the file")
			}
			time.Sleep(time.Millisecond)
		}
	}

	always := open(SyncAlways)
	write(always)
	if always.isDirty() {
		t.Fatal("SyncAlways left the file dirty after Write")
	}

	never := open(SyncNever)
	if never.w.stopSync != nil {
		t.Fatal("SyncNever started the interval loop")
	}
	write(never)
	if err := never.Flush(context.Background()); err != nil || !never.isDirty() {
		t.Fatalf("SyncNever: Flush %v, dirty %v; want no fsync", err, never.isDirty())
	}
}

// TestFailedFsyncLeavesNoPartOfTheBatch: under SyncAlways, a Write whose
// fsync fails returns an error, so the tracker dead-letters the batch; the
// batch must then not be in the file as well.
func TestFailedFsyncLeavesNoPartOfTheBatch(t *testing.T) {
	eio := errors.New("input/output error")
	failing := false
	fsyncFails := func(c *config) {
		c.fsync = func(f *os.File) error {
			if failing {
				return eio
			}
			return f.Sync()
		}
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := New(path, WithSync(SyncAlways), fsyncFails)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	write := func(name string) error {
		return s.Write(context.Background(), []tracker.Event{{Name: name}, {Name: name}})
	}
	if err := write("kept"); err != nil {
		t.Fatal(err)
	}
	failing = true
	if err := write("failed"); !errors.Is(err, eio) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Write with a failing fsync: %v", err)
	}
	failing = false
	if err := write("after"); err != nil {
		t.Fatal(err)
	}
	events, warnings, err := eventline.ReadFile(path)
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	var names []string
	for _, e := range events {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "kept kept after after" {
		t.Fatalf("file holds %q, want the failed batch cut out", got)
	}
}
