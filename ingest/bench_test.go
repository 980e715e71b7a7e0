package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

// benchBodies returns gzip batches of n events shaped as posthog-node's.
func benchBodies(count, n int) [][]byte {
	out := make([][]byte, count)
	for i := range out {
		events := make([]map[string]any, n)
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
		out[i] = gz(batch(testKey, events...))
	}
	return out
}

// BenchmarkServeGzipBatchesOf100 measures events accepted per second, and
// request latency, with concurrent clients posting gzip batches of 100 over
// loopback HTTP, into a tracker with a no-op sink. One op is one request.
func BenchmarkServeGzipBatchesOf100(b *testing.B) {
	for _, ack := range []AckMode{AckQueued, AckDelivered} {
		for _, clients := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("ack=%s/clients=%d", ack, clients), func(b *testing.B) {
				benchServe(b, ack, clients, 100)
			})
		}
	}
}

func benchServe(b *testing.B, ack AckMode, clients, perBatch int) {
	acks := NewAcks()
	topts := []tracker.Option{tracker.WithSink("noop", noop.New(), tracker.WithQueueSize(1<<16))}
	sopts := []Option{WithAPIKeys(testKey)}
	if ack == AckDelivered {
		topts = append(topts, tracker.WithUndeliveredHook(acks.Undelivered))
		sopts = append(sopts, WithDeliveredAck(acks))
	}
	tr, err := tracker.New(topts...)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close(context.Background())
	srv, err := New(tr, sopts...)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	bodies := benchBodies(32, perBatch)
	transport := &http.Transport{MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	var next atomic.Int64
	latencies := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, hs.URL+"/batch/", bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				latencies[c] = append(latencies[c], time.Since(t0))
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := tr.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all)*perBatch)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	st := tr.Stats().Sinks["noop"]
	if d := st.Dropped.Total(); d > 0 {
		b.Errorf("%d events dropped by the queue: the figure would overstate", d)
	}
}
