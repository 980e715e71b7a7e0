package posthog

import (
	"context"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/posthogtest"
)

// BenchmarkCloseHealthy measures what Close costs when the endpoint answers
// 200 at once: with closeBatch events still in posthog-go's buffer (Close
// sends them), and with none left (Flush saw them delivered). ns/op is Close
// alone; creating the sink, writing and flushing are not timed.
func BenchmarkCloseHealthy(b *testing.B) {
	const closeBatch = 100
	for _, tc := range []struct {
		name     string
		interval time.Duration
	}{{"buffered", time.Hour}, {"nothing-left", 5 * time.Millisecond}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := posthogtest.NewDiscardServer(b)
			events := makeEvents(closeBatch)
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				s, err := New(testKey, WithEndpoint(srv.URL), WithInterval(tc.interval))
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Write(context.Background(), events); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if tc.interval < time.Second {
					if err := s.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				err = s.Close(ctx)
				b.StopTimer()
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if st := s.Stats(); st.Sent != closeBatch {
					b.Fatalf("Stats = %+v", st)
				}
			}
		})
	}
}
