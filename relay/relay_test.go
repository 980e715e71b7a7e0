package relay_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/relay"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestRelayDeliversEveryEventWithItsUUIDAndTimestampThenAcks(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(600, "query_initiated")
	publish(t, srv.ClientURL(), want)
	rec := trackertest.NewRecorder()
	r := startRelay(t, srv.ClientURL(), rec)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := rec.WaitFor(ctx, len(want))
	if err != nil {
		t.Fatal(err)
	}
	byUUID := map[string]tracker.Event{}
	for _, e := range got {
		byUUID[e.UUID] = e
	}
	for _, w := range want {
		e, ok := byUUID[w.UUID]
		if !ok {
			t.Fatalf("event %s not delivered", w.UUID)
		}
		if !e.Timestamp.Equal(w.Timestamp) || e.DistinctID != w.DistinctID || e.Groups["organization"] != "org_42" || e.Properties["i"] != w.Properties["i"] {
			t.Fatalf("event %s changed on the way: %+v, want %+v", w.UUID, e, w)
		}
		if _, sampled := e.Properties[tracker.PropSampleRate]; sampled {
			t.Fatalf("event %s sampled again", w.UUID)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := r.Stats(); st.Delivered != 600 || st.Fetched != 600 || st.Nacked != 0 || st.Redelivered != 0 {
		t.Errorf("relay stats = %+v", st)
	}
	if info := consumerInfo(t, srv.ClientURL()); info.NumAckPending != 0 || info.NumPending != 0 || info.AckFloor.Stream != 600 {
		t.Errorf("consumer: %d ack pending, %d pending, ack floor %d", info.NumAckPending, info.NumPending, info.AckFloor.Stream)
	}
}

func TestTwoRelaysShareOneConsumerAndSplitTheWork(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(3000, "query_initiated")
	recA, recB := trackertest.NewRecorder(), trackertest.NewRecorder()
	a := startRelay(t, srv.ClientURL(), recA, relay.WithBatchSize(20))
	b := startRelay(t, srv.ClientURL(), recB, relay.WithBatchSize(20))
	publish(t, srv.ClientURL(), want)
	waitFor(t, "every event", func() bool { return recA.Len()+recB.Len() >= len(want) })
	if err := errors.Join(a.stop(t), b.stop(t)); err != nil {
		t.Fatal(err)
	}
	ga, gb := uuids(recA.Events()), uuids(recB.Events())
	if len(ga) == 0 || len(gb) == 0 {
		t.Fatalf("one relay did all the work: %d and %d events", len(ga), len(gb))
	}
	for _, e := range want {
		if ga[e.UUID]+gb[e.UUID] != 1 {
			t.Fatalf("event %s delivered %d times", e.UUID, ga[e.UUID]+gb[e.UUID])
		}
	}
	t.Logf("relay A %d events, relay B %d", len(ga), len(gb))
}

func TestKilledRelayMidBatchLeavesTheRestToAnotherRelay(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(1000, "query_initiated")
	publish(t, srv.ClientURL(), want)

	// Relay A delivers a while, then its sink hangs mid-batch and the
	// process dies: its connection goes, nothing more is acknowledged.
	sinkA := &blockingSink{blocked: make(chan struct{})}
	a := startRelay(t, srv.ClientURL(), sinkA, relay.WithBatchSize(100), relay.WithAckWait(time.Second), relay.WithShutdownTimeout(300*time.Millisecond))
	waitFor(t, "relay A to deliver", func() bool { return sinkA.Len() >= 200 })
	sinkA.block.Store(true)
	<-sinkA.blocked
	a.nc.Close()
	a.stop(t) // its settlement fails: the connection is gone

	recB := trackertest.NewRecorder()
	b := startRelay(t, srv.ClientURL(), recB, relay.WithAckWait(time.Second))
	waitFor(t, "every event", func() bool {
		ga, gb := uuids(sinkA.Events()), uuids(recB.Events())
		for _, e := range want {
			if ga[e.UUID]+gb[e.UUID] == 0 {
				return false
			}
		}
		return true
	})
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	ga, gb := uuids(sinkA.Events()), uuids(recB.Events())
	dups := 0
	for _, e := range want {
		if ga[e.UUID] > 0 && gb[e.UUID] > 0 {
			dups++
		}
	}
	st := b.Stats()
	// Duplicates come only from A's unacknowledged window, and each was
	// counted as a redelivery.
	if uint64(dups) > st.Redelivered || st.Redelivered > 200 {
		t.Errorf("%d duplicates, relay B counted %d redeliveries (A's window is at most 2 batches of 100)", dups, st.Redelivered)
	}
	if st.Redelivered == 0 {
		t.Error("relay B saw no redelivery of A's batch")
	}
	t.Logf("A delivered %d, B %d, duplicates %d, B stats %+v", len(ga), len(gb), dups, st)
}

func TestFailingSinkGetsItsBatchRedeliveredUntilItRecoversWithoutLoss(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(300, "query_failed")
	sink := &flakySink{}
	sink.failing.Store(true)
	r := startRelay(t, srv.ClientURL(), sink, relay.WithMaxDeliver(1000))
	publish(t, srv.ClientURL(), want)
	// Naks count attempts, not events: wait until every event has failed once.
	waitFor(t, "every event to fail once", func() bool {
		for _, e := range want {
			if sink.attemptsOf(e.UUID) == 0 {
				return false
			}
		}
		return r.Stats().Nacked >= 300
	})
	sink.failing.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sink.WaitFor(ctx, len(want)); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	got := uuids(sink.Events())
	for _, e := range want {
		if got[e.UUID] != 1 {
			t.Fatalf("event %s delivered %d times", e.UUID, got[e.UUID])
		}
		if sink.attemptsOf(e.UUID) < 2 {
			t.Fatalf("event %s was not retried", e.UUID)
		}
	}
	if st := r.Stats(); st.Redelivered < 300 || st.DeadLettered != 0 || st.Delivered != 300 {
		t.Errorf("relay stats = %+v", st)
	}
	if info := consumerInfo(t, srv.ClientURL()); info.NumAckPending != 0 {
		t.Errorf("%d messages still unacknowledged (%d redelivered); relay %+v; log %s", info.NumAckPending, info.NumRedelivered, r.Stats(), r.log.String())
	}
}

func TestMaxDeliverSendsTheEventToTheDeadLetterAndTerminatesIt(t *testing.T) {
	srv := natstest.Run(t)
	dead := t.TempDir() + "/relay-dead.jsonl"
	want := testEvents(20, "query_failed")
	sink := &flakySink{}
	sink.failing.Store(true)
	r := startRelay(t, srv.ClientURL(), sink, relay.WithMaxDeliver(3), relay.WithDeadLetter(dead))
	publish(t, srv.ClientURL(), want)
	waitFor(t, "dead letters", func() bool { return r.Stats().DeadLettered >= 20 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	lines, _, err := eventline.ReadFile(dead)
	if err != nil {
		t.Fatal(err)
	}
	got := uuids(lines)
	for _, e := range want {
		if got[e.UUID] != 1 || sink.attemptsOf(e.UUID) != 3 {
			t.Fatalf("event %s: %d dead letters after %d deliveries, want 1 after 3", e.UUID, got[e.UUID], sink.attemptsOf(e.UUID))
		}
	}
	for _, e := range lines {
		if e.Properties[tracker.PropSink] != "rec" {
			t.Fatalf("dead letter without its sink: %+v", e.Properties)
		}
	}
	info := consumerInfo(t, srv.ClientURL())
	if info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("terminated messages still pending: %d ack pending, %d redelivered", info.NumAckPending, info.NumRedelivered)
	}
	if fi, err := os.Stat(dead); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dead letter mode: %v %v", fi.Mode(), err)
	}
}

func TestMessagesThatAreNotEventLinesAreTerminatedCountedAndLogged(t *testing.T) {
	srv := natstest.Run(t)
	rec := trackertest.NewRecorder()
	r := startRelay(t, srv.ClientURL(), rec)
	publish(t, srv.ClientURL(), testEvents(1, "before"))
	nc, err := natsgo.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, bad := range []string{"not json at all", `{"uuid":"x","event":""}`, `{"event":"x","timestamp":"yesterday"}`} {
		if _, err := jsPublish(nc, "multitrack.events.junk", []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, srv.ClientURL(), testEvents(1, "after")[:1])
	waitFor(t, "the poison to be terminated", func() bool { return r.Stats().Terminated == 3 })
	waitFor(t, "the good events", func() bool { return len(rec.Named("before")) == 1 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []string{`"seq":2`, `"seq":3`, `"seq":4`} {
		if !strings.Contains(r.log.String(), seq) {
			t.Errorf("log does not name sequence %s: %s", seq, r.log.String())
		}
	}
	if info := consumerInfo(t, srv.ClientURL()); info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("poison still pending: %+v", info)
	}
}

func TestShutdownDeliversAndAcksTheBatchInFlight(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(200, "query_initiated")
	sink := &slowSink{delay: 300 * time.Millisecond}
	r := startRelay(t, srv.ClientURL(), sink)
	publish(t, srv.ClientURL(), want)
	waitFor(t, "a Write to start", func() bool { return sink.started.Load() })
	start := time.Now()
	if err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v, over its 5s timeout", took)
	}
	st := r.Stats()
	if st.Delivered == 0 || st.Delivered != st.Fetched || st.Nacked != 0 {
		t.Errorf("batch in flight not finished: %+v", st)
	}
	if info := consumerInfo(t, srv.ClientURL()); info.NumAckPending != 0 || info.AckFloor.Stream != st.Delivered {
		t.Errorf("consumer: %d ack pending, ack floor %d, relay delivered %d", info.NumAckPending, info.AckFloor.Stream, st.Delivered)
	}
}

func TestEventsTheRelaysTrackerRejectsAreAcknowledgedAndCounted(t *testing.T) {
	srv := natstest.Run(t)
	rec := trackertest.NewRecorder()
	big := testEvents(3, "big")
	big[1].Properties = map[string]any{"blob": strings.Repeat("x", 2000)}
	r := startRelay(t, srv.ClientURL(), &configured{Sink: rec, opts: []tracker.Option{tracker.WithMaxEventSize(1024)}})
	publish(t, srv.ClientURL(), big)
	waitFor(t, "the batch", func() bool { return r.Stats().Delivered == 3 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Rejected != 1 || rec.Len() != 2 {
		t.Errorf("relay stats %+v, sink got %d events, want 1 rejected and 2 delivered", st, rec.Len())
	}
	if info := consumerInfo(t, srv.ClientURL()); info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("rejected event left pending: %+v", info)
	}
}
