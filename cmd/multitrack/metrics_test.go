package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMetricsFlagServesTheTrackersCounters(t *testing.T) {
	tr, _ := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "query_initiated"})
	s, err := startMetrics("127.0.0.1:0", tr, map[string]http.Handler{
		"/healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	body := get(t, s.URL())
	if !strings.Contains(body, "multitrack_captured_total 1\n") {
		t.Errorf("/metrics lacks the captured count:\n%s", body)
	}
	if got := get(t, strings.TrimSuffix(s.URL(), "/metrics")+"/healthz"); got != "ok" {
		t.Errorf("/healthz = %q", got)
	}
}

func TestMetricsFlagNamesABadAddress(t *testing.T) {
	_, errOut, code := run(t, "demo", "-duration", "10ms", "--metrics", "127.0.0.1:nope")
	if code != 1 || !strings.Contains(errOut, "--metrics 127.0.0.1:nope") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
