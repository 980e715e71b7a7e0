package file

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// BenchmarkPathCheck weighs what noticing a moved, deleted or truncated
// file costs: Write of a batch of 1 and of 256 events with the check and
// without it, and the check alone (an fstat and a stat). Compare the
// ns/op of a batch with and without it, within one run.
func BenchmarkPathCheck(b *testing.B) {
	ev := tracker.Event{
		UUID: "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f", Name: "query_initiated", DistinctID: "org_42", Timestamp: time.Now(),
		Groups:     map[string]string{"organization": "org_42"},
		Properties: map[string]any{"user": "alice", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "duration_ms": 12.5, "rows": 1042, "cached": false},
	}
	open := func(b *testing.B, check bool) *Sink {
		s, err := New(filepath.Join(b.TempDir(), "events.jsonl"), WithMaxSizeMB(0), WithSync(SyncNever),
			func(c *config) { c.noPathCheck = !check })
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(context.Background()) })
		return s
	}
	for _, n := range []int{1, 256} {
		batch := make([]tracker.Event, n)
		for i := range batch {
			batch[i] = ev
		}
		for _, check := range []bool{false, true} {
			b.Run(fmt.Sprintf("batch=%d/check=%v", n, check), func(b *testing.B) {
				s := open(b, check)
				b.ReportAllocs()
				for b.Loop() {
					if err := s.Write(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.Run("check_alone", func(b *testing.B) {
		w := open(b, true).w
		b.ReportAllocs()
		for b.Loop() {
			w.mu.Lock()
			err := w.ensureOpen()
			w.mu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
