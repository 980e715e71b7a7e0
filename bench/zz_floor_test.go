package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

func TestFloor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"status":1}`)
	}))
	defer srv.Close()
	for r := 0; r < 2; r++ {
		tr := newTracker(t, 1)
		ctx, e := bench.OrgContext(), bench.Event()
		lat := bench.Load{Rate: 20000, Goroutines: 4, Duration: 3 * time.Second}.Run(func(int) { tr.Capture(ctx, e) })
		t.Logf("discard sink: p50 %v p99 %v p99.9 %v max %v", lat.Percentile(50), lat.Percentile(99), lat.Percentile(99.9), lat.Percentile(100))
		s, _ := posthog.New("phc_x", posthog.WithEndpoint(srv.URL))
		tr2, _ := tracker.New(tracker.WithSink("posthog", s))
		lat = bench.Load{Rate: 20000, Goroutines: 4, Duration: 3 * time.Second}.Run(func(int) { tr2.Capture(ctx, e) })
		tr2.Close(context.Background())
		t.Logf("posthog sink: p50 %v p99 %v p99.9 %v max %v", lat.Percentile(50), lat.Percentile(99), lat.Percentile(99.9), lat.Percentile(100))
	}
}
