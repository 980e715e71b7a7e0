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
// file costs a batch: Write of 1 and of 256 events to two files, one with
// the check and one without, alternating batch by batch so that load from
// elsewhere on the machine weighs on both alike. It reports the ns a batch
// of each, the difference, and their ratio; and the check alone (a stat).
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
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			checked, unchecked := open(b, true), open(b, false)
			var with, without time.Duration
			write := func(s *Sink) time.Duration {
				start := time.Now()
				if err := s.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 { // alternate which goes first
					with += write(checked)
					without += write(unchecked)
				} else {
					without += write(unchecked)
					with += write(checked)
				}
			}
			batches := float64(b.N)
			b.ReportMetric(float64(with.Nanoseconds())/batches, "ns/checked_batch")
			b.ReportMetric(float64(without.Nanoseconds())/batches, "ns/unchecked_batch")
			b.ReportMetric(float64((with-without).Nanoseconds())/batches, "ns/check")
			b.ReportMetric(with.Seconds()/without.Seconds(), "ratio")
		})
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
