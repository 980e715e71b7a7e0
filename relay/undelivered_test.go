package relay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/relay"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// pickySink delivers every event but those named bad, which it reports
// undelivered after Write has returned nil (as an asynchronous client does).
type pickySink struct {
	trackertest.Recorder
	bad         string
	undelivered tracker.UndeliveredFunc
}

func (s *pickySink) SetUndelivered(f tracker.UndeliveredFunc) { s.undelivered = f }

func (s *pickySink) Write(ctx context.Context, events []tracker.Event) error {
	var good, bad []tracker.Event
	for _, e := range events {
		if e.Name == s.bad {
			bad = append(bad, e)
		} else {
			good = append(good, e)
		}
	}
	if len(bad) > 0 {
		s.undelivered(bad, errors.New("refused"))
	}
	return s.Recorder.Write(ctx, good)
}

func TestOnlyTheEventsASinkDidNotDeliverAreRedelivered(t *testing.T) {
	srv := natstest.Run(t)
	dead := t.TempDir() + "/dead.jsonl"
	good, bad := testEvents(200, "query_initiated"), testEvents(205, "poison")[200:]
	sink := &pickySink{bad: "poison"}
	r := startRelay(t, srv.ClientURL(), sink, relay.WithMaxDeliver(3), relay.WithDeadLetter(dead))
	publish(t, srv.ClientURL(), append(append([]tracker.Event{}, good[:100]...), append(bad, good[100:]...)...))
	waitFor(t, "the bad events' dead letters", func() bool { return r.Stats().DeadLettered == 5 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	got := uuids(sink.Events())
	for _, e := range good {
		if got[e.UUID] != 1 {
			t.Fatalf("good event %s delivered %d times, want once: a batch-mate's failure sent it again", e.UUID, got[e.UUID])
		}
	}
	lines, _, err := eventline.ReadFile(dead)
	if err != nil || len(lines) != 5 {
		t.Fatalf("dead letter: %d lines, %v", len(lines), err)
	}
	if st := r.Stats(); st.Delivered != 200 || st.Nacked != 10 || st.Redelivered != 10 {
		t.Errorf("relay stats = %+v, want 200 delivered, each of 5 bad events nak'ed twice", st)
	}
}

func TestEventsDroppedFromAFullQueueAreRedeliveredNotAcked(t *testing.T) {
	srv := natstest.Run(t)
	want := testEvents(400, "query_initiated")
	rec := trackertest.NewRecorder()
	r := startRelay(t, srv.ClientURL(), &configured{Sink: rec, sinkOpts: []tracker.SinkOption{tracker.WithQueueSize(20)}}, relay.WithBatchSize(100))
	publish(t, srv.ClientURL(), want)
	waitFor(t, "every event", func() bool { return rec.Len() >= len(want) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	got := uuids(rec.Events())
	for _, e := range want {
		if got[e.UUID] != 1 {
			t.Fatalf("event %s delivered %d times", e.UUID, got[e.UUID])
		}
	}
	if st := r.Stats(); st.Nacked == 0 {
		t.Errorf("no event was dropped by the queue of 20: %+v", st)
	}
}
