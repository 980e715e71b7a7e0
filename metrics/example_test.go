package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/multitrack/multitrack/metrics"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

// Serve a tracker's counters at /metrics for Prometheus to scrape.
func ExampleHandler() {
	t, _ := tracker.New(tracker.WithSink("noop", noop.New()))
	t.Capture(context.Background(), tracker.Event{Name: "query_initiated"})
	_ = t.Flush(context.Background())

	srv := httptest.NewServer(metrics.Handler(t)) // or http.Handle("/metrics", metrics.Handler(t))
	defer srv.Close()
	resp, _ := srv.Client().Get(srv.URL)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "multitrack_captured_total") || strings.HasPrefix(line, `multitrack_sink_delivered_total`) {
			fmt.Println(line)
		}
	}
	_ = t.Close(context.Background())
	// Output:
	// multitrack_captured_total 1
	// multitrack_sink_delivered_total{sink="noop"} 1
}
