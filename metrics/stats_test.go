package metrics_test

import (
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/multitrack/multitrack/metrics"
)

type fakeStats struct {
	Requests   uint64
	Accepted   uint64
	Lag        uint64
	Depth      int
	Name       string // not a number: left out
	unexported uint64 //lint:ignore U1000 a field the collector must skip
}

func TestStatsCollectorExportsEachNumericField(t *testing.T) {
	var n atomic.Uint64
	c := metrics.NewStatsCollector("serve", func() any {
		v := n.Add(1)
		return fakeStats{Requests: v, Accepted: 2 * v, Lag: 7, Depth: -1, Name: "x"}
	}, "Lag", "Depth")
	got := gather(t, c) // the second read: NewStatsCollector read the type
	want := map[string]float64{
		"multitrack_serve_requests_total": 2,
		"multitrack_serve_accepted_total": 4,
		"multitrack_serve_lag":            7,
		"multitrack_serve_depth":          -1,
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got := gather(t, c)["multitrack_serve_requests_total"]; got != 3 {
		t.Errorf("a second scrape reads the stats again: got %v, want 3", got)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
