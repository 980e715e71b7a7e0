package bench_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/ingest"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

const (
	serveBatch   = 100 // events a request
	serveClients = 4   // concurrent clients
)

// BenchmarkServe compares events/s accepted by multitrack serve (package
// ingest: PostHog's /batch/ API into a no-op sink, acknowledging once
// delivered, serve's default, or once queued) with a bare net/http handler
// that only gunzips and decodes the same requests with encoding/json and
// answers 200: serveClients clients post gzip batches of serveBatch
// posthog-node-shaped events over loopback. An op is one request;
// events/s and anchor-events/s are the two rates, p50-ms and p99-ms serve's
// request latency.
func BenchmarkServe(b *testing.B) {
	bare := httptest.NewServer(http.HandlerFunc(bareBatchHandler))
	b.Cleanup(bare.Close)
	b.Cleanup(serveClient.CloseIdleConnections)
	bodies := serveBodies(32)
	for _, delivered := range []bool{true, false} {
		name := "ack=queued"
		if delivered {
			name = "ack=delivered"
		}
		b.Run(name, func(b *testing.B) {
			tr, url := newServe(b, delivered)
			var lat bench.Latencies
			per, anchorPer := bench.Compare(b, 64, true,
				bench.Side{Name: "net/http", Run: func(n int) { postBatches(b, bare.URL, bodies, n, nil) }},
				bench.Side{Name: "multitrack", Run: func(n int) { postBatches(b, url, bodies, n, &lat) }})
			b.ReportMetric(serveBatch*float64(time.Second)/float64(per), "events/s")
			b.ReportMetric(serveBatch*float64(time.Second)/float64(anchorPer), "anchor-events/s")
			b.ReportMetric(float64(lat.Percentile(50))/1e6, "p50-ms")
			b.ReportMetric(float64(lat.Percentile(99))/1e6, "p99-ms")
			if err := tr.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			if d := tr.Stats().Sinks["noop"].Dropped.Total(); d > 0 {
				b.Fatalf("%d events dropped by the queue: the figure would overstate", d)
			}
		})
	}
}

// newServe starts serve's handler over a tracker with a no-op sink, and
// returns the tracker and the server's URL.
func newServe(tb testing.TB, delivered bool) (*tracker.Tracker, string) {
	acks := ingest.NewAcks()
	topts := []tracker.Option{tracker.WithSink("noop", noop.New(), tracker.WithQueueSize(1<<16))}
	sopts := []ingest.Option{ingest.WithAPIKeys(apiKey)}
	if delivered {
		topts = append(topts, tracker.WithUndeliveredHook(acks.Undelivered))
		sopts = append(sopts, ingest.WithDeliveredAck(acks))
	}
	tr, err := tracker.New(topts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tr.Close(context.Background()) })
	h, err := ingest.New(tr, sopts...)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return tr, srv.URL
}

// bareBatchHandler is serve's anchor: it decodes a gzip batch and answers.
func bareBatchHandler(w http.ResponseWriter, r *http.Request) {
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var body struct {
		APIKey string           `json:"api_key"`
		Batch  []map[string]any `json:"batch"`
	}
	if err := json.NewDecoder(zr).Decode(&body); err != nil || len(body.Batch) == 0 {
		http.Error(w, fmt.Sprint("bad batch: ", err), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, `{"status":1}`)
}

// postBatches posts n requests from serveClients clients, cycling through
// bodies, and adds their latencies to lat when it is not nil.
func postBatches(tb testing.TB, url string, bodies [][]byte, n int, lat *bench.Latencies) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range serveClients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, url+"/batch/", bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				t0 := time.Now()
				resp, err := serveClient.Do(req)
				if err != nil {
					tb.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if lat != nil {
					d := time.Since(t0)
					mu.Lock()
					*lat = append(*lat, d)
					mu.Unlock()
				}
				if resp.StatusCode != http.StatusOK {
					tb.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
}

var serveClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: serveClients}}

// serveBodies returns gzip batches of serveBatch events shaped as
// posthog-node's.
func serveBodies(count int) [][]byte {
	out := make([][]byte, count)
	for i := range out {
		events := make([]map[string]any, serveBatch)
		for j := range events {
			events[j] = map[string]any{
				"event": "query_initiated", "distinct_id": fmt.Sprintf("user_%d", j%17), "uuid": uuid.Must(uuid.NewV7()).String(),
				"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
				"properties": map[string]any{
					"trace_id": uuid.NewString(), "statement_type": "select", "duration_ms": 12 + j, "rows": 1024,
					"$groups": map[string]any{"organization": fmt.Sprintf("org_%d", j%5)},
					"$lib":    "posthog-node", "$lib_version": "5.70.0", "$geoip_disable": true,
				},
			}
		}
		body, err := json.Marshal(map[string]any{"api_key": apiKey, "batch": events, "sent_at": time.Now().UTC().Format(time.RFC3339Nano)})
		if err != nil {
			panic(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		out[i] = buf.Bytes()
	}
	return out
}
