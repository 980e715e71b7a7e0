package file

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

func (s *Sink) isDirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirty
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
	if never.stopSync != nil {
		t.Fatal("SyncNever started the interval loop")
	}
	write(never)
	if err := never.Flush(context.Background()); err != nil || !never.isDirty() {
		t.Fatalf("SyncNever: Flush %v, dirty %v; want no fsync", err, never.isDirty())
	}
}
