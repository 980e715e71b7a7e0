package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// deliveredRig is a Server answering under AckDelivered over a tracker with
// the given sinks.
func deliveredRig(t *testing.T, sinks []tracker.Option, opts ...Option) *rig {
	t.Helper()
	acks := NewAcks()
	tr, err := tracker.New(append(sinks, tracker.WithUndeliveredHook(acks.Undelivered))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Close(ctx)
	})
	r := newRigOn(t, tr, nil, append([]Option{WithDeliveredAck(acks)}, opts...)...)
	t.Cleanup(func() {
		if n := acks.waiting(); n != 0 {
			t.Errorf("%d UUIDs still waiting after the test", n)
		}
	})
	return r
}

func fastSink(name string, s tracker.Sink, opts ...tracker.SinkOption) tracker.Option {
	return tracker.WithSink(name, s, append([]tracker.SinkOption{tracker.WithFlushInterval(5 * time.Millisecond)}, opts...)...)
}

// eventsWithUUIDs returns n events with fresh UUIDs, and the UUIDs.
func eventsWithUUIDs(n int) ([]map[string]any, []string) {
	events := make([]map[string]any, n)
	uuids := make([]string, n)
	for i := range events {
		uuids[i] = uuid.Must(uuid.NewV7()).String()
		events[i] = map[string]any{"event": "e", "distinct_id": "u", "uuid": uuids[i], "properties": map[string]any{"i": i}}
	}
	return events, uuids
}

// TestDeliveredAckMeansTheEventsAreInTheFile: a 200 under AckDelivered
// means the file sink has written every event, before anyone flushes.
func TestDeliveredAckMeansTheEventsAreInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	sink, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	r := deliveredRig(t, []tracker.Option{tracker.WithSink("file", sink)}) // the default 250 ms interval
	events, uuids := eventsWithUUIDs(10)
	if resp := r.post("/batch/", batch(testKey, events...)); resp.status != 200 {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	inFile, _, err := eventline.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := byUUID(inFile)
	for _, u := range uuids {
		if _, ok := got[u]; !ok {
			t.Errorf("answered 200, but %s is not in the file", u)
		}
	}
}

// recordingSink records what it delivers and fails while fail is set.
type recordingSink struct {
	trackertest.Recorder
	mu     sync.Mutex
	fail   bool
	failed int
}

func (s *recordingSink) Write(ctx context.Context, events []tracker.Event) error {
	s.mu.Lock()
	fail := s.fail
	if fail {
		s.failed += len(events)
	}
	s.mu.Unlock()
	if fail {
		return errors.New("endpoint down at /var/secret/path")
	}
	return s.Recorder.Write(ctx, events)
}

func (s *recordingSink) setFail(on bool) {
	s.mu.Lock()
	s.fail = on
	s.mu.Unlock()
}

func TestDeliveredAckAnswers503UntilTheSinkDelivers(t *testing.T) {
	good, flaky := &recordingSink{}, &recordingSink{fail: true}
	r := deliveredRig(t, []tracker.Option{fastSink("good", good), fastSink("flaky", flaky)})
	events, uuids := eventsWithUUIDs(5)
	body := batch(testKey, events...)
	resp := r.post("/batch/", body)
	if resp.status != 503 || resp.header.Get("Retry-After") == "" || resp.body["code"] != "not_delivered" {
		t.Fatalf("a failing sink: %d %v %s", resp.status, resp.header, resp.raw)
	}
	detail := resp.body["detail"].(string)
	if !strings.Contains(detail, `5 of 5 events not delivered (sink "flaky": delivery failed)`) || strings.Contains(detail, "secret") {
		t.Errorf("detail %q", detail)
	}
	flaky.setFail(false)
	if resp := r.post("/batch/", body); resp.status != 200 {
		t.Fatalf("the retry once the sink is back: %d %s", resp.status, resp.raw)
	}
	for name, s := range map[string]*recordingSink{"good": good, "flaky": flaky} {
		want := map[string]int{"good": 2, "flaky": 1}[name]
		count := map[string]int{}
		for _, e := range s.Events() {
			count[e.UUID]++
		}
		for _, u := range uuids {
			if count[u] != want {
				t.Errorf("sink %s delivered %s %d times, want %d", name, u, count[u], want)
			}
		}
	}
	if got := r.srv.Stats().NotDelivered; got != 1 {
		t.Errorf("Stats().NotDelivered = %d", got)
	}
}

// gatedSink blocks every Write until the gate opens.
type gatedSink struct {
	trackertest.Recorder
	gate chan struct{}
}

func (s *gatedSink) Write(ctx context.Context, events []tracker.Event) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Recorder.Write(ctx, events)
}

func TestDeliveredAckAnswers503WhenTheQueueOverflows(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	r := deliveredRig(t, []tracker.Option{fastSink("slow", sink, tracker.WithQueueSize(2), tracker.WithBatchSize(1))})
	time.AfterFunc(300*time.Millisecond, func() { close(sink.gate) })
	events, _ := eventsWithUUIDs(20)
	resp := r.post("/batch/", batch(testKey, events...))
	if resp.status != 503 || !strings.Contains(resp.raw, "queue full") {
		t.Fatalf("20 events into a queue of 2: %d %s", resp.status, resp.raw)
	}
}

func TestDeliveredAckAnswers503WhenDeliveryIsNotConfirmedInTime(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	r := deliveredRig(t, []tracker.Option{fastSink("stalled", sink)}, WithAckTimeout(200*time.Millisecond))
	t.Cleanup(func() { close(sink.gate) })
	start := time.Now()
	resp := r.post("/batch/", batch(testKey, ev("e", "u", nil)))
	if resp.status != 503 || !strings.Contains(resp.raw, "not confirmed within 200ms") {
		t.Fatalf("a stalled sink: %d %s", resp.status, resp.raw)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("answered after %v", time.Since(start))
	}
}

// TestEveryEventIsAccountedForByUUID sends concurrent batches while a sink
// fails every third Write. Under AckDelivered the clients retry 503s, as
// the SDKs do: every event is delivered, and only the events of a request
// answered 503 may be delivered twice. Under AckQueued every request is
// answered 200, and each event is either delivered or in the dead-letter
// file, exactly once.
func TestEveryEventIsAccountedForByUUID(t *testing.T) {
	for _, mode := range []AckMode{AckDelivered, AckQueued} {
		t.Run(mode.String(), func(t *testing.T) {
			sink := &everyThirdFails{}
			dead := filepath.Join(t.TempDir(), "dead.jsonl")
			acks := NewAcks()
			opts := []tracker.Option{fastSink("flaky", sink), tracker.WithDeadLetter(dead)}
			var serveOpts []Option
			if mode == AckDelivered {
				opts = append(opts, tracker.WithUndeliveredHook(acks.Undelivered))
				serveOpts = append(serveOpts, WithDeliveredAck(acks))
			}
			tr, err := tracker.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			r := newRigOn(t, tr, nil, serveOpts...)

			const clients, requests, perRequest = 6, 10, 20
			var mu sync.Mutex
			sent := map[string]bool{}
			retried := map[string]bool{}
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < requests; i++ {
						events, uuids := eventsWithUUIDs(perRequest)
						body := batch(testKey, events...)
						for attempt := 0; ; attempt++ {
							resp, err := http.Post(r.url+"/batch/", "application/json", strings.NewReader(string(body)))
							if err != nil {
								t.Error(err)
								return
							}
							resp.Body.Close()
							mu.Lock()
							for _, u := range uuids {
								sent[u] = true
								if resp.StatusCode != 200 {
									retried[u] = true
								}
							}
							mu.Unlock()
							if resp.StatusCode == 200 {
								break
							}
							if resp.StatusCode != 503 || attempt > 20 {
								t.Errorf("answered %d after %d attempts", resp.StatusCode, attempt)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			if err := tr.Close(context.Background()); err == nil && mode == AckQueued {
				t.Error("Close reported nothing lost although Writes failed")
			}
			delivered := map[string]int{}
			for _, e := range sink.Events() {
				delivered[e.UUID]++
			}
			deadLettered := map[string]int{}
			if mode == AckQueued {
				events, _, err := eventline.ReadFile(dead)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					deadLettered[e.UUID]++
				}
			}
			if len(sent) != clients*requests*perRequest {
				t.Fatalf("%d UUIDs sent", len(sent))
			}
			for u := range sent {
				d, l := delivered[u], deadLettered[u]
				switch {
				case mode == AckDelivered && d == 0:
					t.Errorf("%s answered 200 but never delivered", u)
				case mode == AckDelivered && d > 1 && !retried[u]:
					t.Errorf("%s delivered %d times without a retry", u, d)
				case mode == AckQueued && d+l != 1:
					t.Errorf("%s delivered %d times, dead-lettered %d", u, d, l)
				}
			}
			for u := range delivered {
				if !sent[u] {
					t.Errorf("%s delivered but never sent", u)
				}
			}
			if mode == AckDelivered && acks.waiting() != 0 {
				t.Errorf("%d UUIDs still waiting", acks.waiting())
			}
			t.Logf("%d events, %d retried, %d dead-lettered, %d failed Writes", len(sent), len(retried), len(deadLettered), sink.failures())
		})
	}
}

// everyThirdFails fails every third Write.
type everyThirdFails struct {
	trackertest.Recorder
	mu     sync.Mutex
	writes int
	failed int
}

func (s *everyThirdFails) Write(ctx context.Context, events []tracker.Event) error {
	s.mu.Lock()
	s.writes++
	fail := s.writes%3 == 0
	if fail {
		s.failed++
	}
	s.mu.Unlock()
	if fail {
		return fmt.Errorf("write %d refused", s.writes)
	}
	return s.Recorder.Write(ctx, events)
}

func (s *everyThirdFails) failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// TestDeliveredAckFollowsPostHogsAnswer: through the PostHog sink, a 200
// means PostHog accepted every event, and PostHog refusing them means 503.
func TestDeliveredAckFollowsPostHogsAnswer(t *testing.T) {
	ph := posthogtest.NewServer(t, posthogtest.FailFirst(1, posthogtest.Answer{Status: http.StatusBadRequest}))
	sink, err := posthog.New(testKey, posthog.WithEndpoint(ph.URL))
	if err != nil {
		t.Fatal(err)
	}
	r := deliveredRig(t, []tracker.Option{tracker.WithSink("posthog", sink)})
	events, uuids := eventsWithUUIDs(3)
	body := batch(testKey, events...)
	if resp := r.post("/batch/", body); resp.status != 503 || !strings.Contains(resp.raw, `sink \"posthog\"`) {
		t.Fatalf("PostHog answered 400: %d %s", resp.status, resp.raw)
	}
	if resp := r.post("/batch/", body); resp.status != 200 {
		t.Fatalf("PostHog answered 200: %d %s", resp.status, resp.raw)
	}
	accepted := ph.Accepted()
	for _, u := range uuids {
		if accepted[u] != 1 {
			t.Errorf("answered 200, PostHog accepted %s %d times", u, accepted[u])
		}
	}
}
