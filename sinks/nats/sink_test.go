package nats_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stored is one message of the stream.
type stored struct {
	subject, msgID string
	event          tracker.Event
}

// readStream returns every message of the stream, in order.
func readStream(t *testing.T, url, stream string) []stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := natstest.Stream(t, url, stream)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []stored
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		e, err := eventline.Parse(m.Data)
		if err != nil {
			t.Fatalf("seq %d is not an event line: %v: %q", seq, err, m.Data)
		}
		out = append(out, stored{subject: m.Subject, msgID: m.Header.Get(jetstream.MsgIDHeader), event: e})
	}
	return out
}

// events returns n events named name, with UUIDs of this package's own.
func events(n int, name string) []tracker.Event { return natstest.Events(n, name, 0x0000) }

func newSink(t *testing.T, cfg natssink.Config, opts ...natssink.Option) *natssink.Sink {
	t.Helper()
	s, err := natssink.New(append([]natssink.Option{natssink.WithConfig(cfg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestWritePublishesEachEventLineByUUIDAndReturnsOnceAcknowledged(t *testing.T) {
	srv := natstest.Run(t)
	s := newSink(t, natssink.Config{URL: srv.ClientURL()})
	batch := events(300, "query_initiated")
	batch[7].Name = "query.failed now" // reserved characters in a subject token
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	// Write returned: every event is in the stream already.
	got := readStream(t, srv.ClientURL(), natssink.DefaultStream)
	if len(got) != len(batch) {
		t.Fatalf("stream holds %d messages, want %d", len(got), len(batch))
	}
	for i, m := range got {
		want := batch[i]
		if m.msgID != want.UUID || m.event.UUID != want.UUID {
			t.Errorf("message %d: Nats-Msg-Id %q, uuid %q, want %q", i, m.msgID, m.event.UUID, want.UUID)
		}
		if !m.event.Timestamp.Equal(want.Timestamp) || m.event.Name != want.Name || m.event.DistinctID != "org_42" || m.event.Properties["i"] != int64(i) {
			t.Errorf("message %d: event %+v, want %+v", i, m.event, want)
		}
		wantSubject := "multitrack.events.query_initiated"
		if i == 7 {
			wantSubject = "multitrack.events.query_failed_now"
		}
		if m.subject != wantSubject {
			t.Errorf("message %d: subject %q, want %q", i, m.subject, wantSubject)
		}
	}
	if st := s.Stats(); st.Published != 300 || st.Duplicates != 0 || st.Failed != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestDuplicatePublishesAreDroppedByUUID(t *testing.T) {
	srv := natstest.Run(t)
	s := newSink(t, natssink.Config{URL: srv.ClientURL()})
	batch := events(50, "signed_up")
	for range 3 {
		if err := s.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	// A second producer (another pod replaying the same dead letter, say).
	other := newSink(t, natssink.Config{URL: srv.ClientURL()})
	if err := other.Write(context.Background(), batch[:10]); err != nil {
		t.Fatal(err)
	}
	if got := readStream(t, srv.ClientURL(), natssink.DefaultStream); len(got) != 50 {
		t.Fatalf("stream holds %d messages, want 50", len(got))
	}
	if st := s.Stats(); st.Published != 50 || st.Duplicates != 100 {
		t.Errorf("stats = %+v, want 50 published and 100 duplicates", st)
	}
	if st := other.Stats(); st.Duplicates != 10 {
		t.Errorf("second producer's stats = %+v, want 10 duplicates", st)
	}
}

func TestServerStoppedMidStreamEveryEventIsDeliveredAfterReconnectOrDeadLettered(t *testing.T) {
	srv := natstest.Run(t)
	url := srv.ClientURL()
	dead := t.TempDir() + "/dead.jsonl"
	sink := newSink(t, natssink.Config{URL: url, ReconnectWait: 50 * time.Millisecond},
		natssink.WithAckTimeout(500*time.Millisecond), natssink.WithRetryTimeout(20*time.Second))
	tr, err := tracker.New(tracker.WithSink("nats", sink, tracker.WithBatchSize(64), tracker.WithQueueSize(100000)), tracker.WithDeadLetter(dead))
	if err != nil {
		t.Fatal(err)
	}
	const total = 3000
	restarted := make(chan *server.Server, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(100 * time.Millisecond)
		restarted <- natstest.Restart(t, srv, 700*time.Millisecond)
	}()
	for i, e := range events(total, "query_initiated") {
		tr.Capture(context.Background(), e)
		if i%100 == 99 {
			time.Sleep(5 * time.Millisecond) // spread the capture over the outage
		}
	}
	wg.Wait()
	<-restarted
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		t.Logf("close: %v", err)
	}
	st := tr.Stats().Sinks["nats"]
	seen := map[string]int{}
	for _, m := range readStream(t, url, natssink.DefaultStream) {
		seen[m.event.UUID]++
	}
	deadLettered, _, err := eventline.ReadFile(dead)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range deadLettered {
		seen[e.UUID]++
	}
	for _, e := range events(total, "") {
		if seen[e.UUID] == 0 {
			t.Fatalf("event %s neither in the stream nor dead-lettered (sink stats %+v)", e.UUID, st)
		}
	}
	if st.Delivered+st.Failed != total || st.Dropped.Total() != 0 {
		t.Errorf("tracker stats do not add up: %+v", st)
	}
	if ss := sink.Stats(); ss.Retried == 0 {
		t.Errorf("no publish was retried across the restart: %+v", ss)
	}
	t.Logf("sink %+v; dead-lettered %d", sink.Stats(), len(deadLettered))
}

func TestUnacknowledgedEventsAreReportedUndeliveredWhenTheServerStaysDown(t *testing.T) {
	srv := natstest.Run(t)
	dead := t.TempDir() + "/dead.jsonl"
	sink := newSink(t, natssink.Config{URL: srv.ClientURL(), ReconnectWait: 50 * time.Millisecond},
		natssink.WithAckTimeout(200*time.Millisecond), natssink.WithRetryTimeout(600*time.Millisecond))
	tr, err := tracker.New(tracker.WithSink("nats", sink), tracker.WithDeadLetter(dead))
	if err != nil {
		t.Fatal(err)
	}
	natstest.Stop(srv)
	for _, e := range events(20, "query_failed") {
		tr.Capture(context.Background(), e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = tr.Close(ctx)
	var ue *tracker.UndeliveredError
	if !errors.As(err, &ue) || ue.Count != 20 || ue.DeadLettered != 20 {
		t.Fatalf("close: %v", err)
	}
	got, _, err := eventline.ReadFile(dead)
	if err != nil || len(got) != 20 {
		t.Fatalf("dead letter: %d events, %v", len(got), err)
	}
	if !strings.Contains(ue.Error(), "not acknowledged by stream MULTITRACK") {
		t.Errorf("error does not say why: %v", ue)
	}
}

// Close closes the connection the sink opened, leaves one given WithConn
// open, and is safe to call again; Write after Close is ErrClosed.
func TestCloseClosesOnlyTheConnectionItOpened(t *testing.T) {
	srv := natstest.Run(t)
	ctx := context.Background()

	owned := newSink(t, natssink.Config{URL: srv.ClientURL()})
	nc, err := natsgo.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	given, err := natssink.New(natssink.WithConfig(natssink.Config{URL: srv.ClientURL()}), natssink.WithConn(nc))
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.NumClients(); n != 2 {
		t.Fatalf("%d clients before Close, want 2", n)
	}
	for _, s := range []*natssink.Sink{owned, given} {
		for range 2 {
			if err := s.Close(ctx); err != nil {
				t.Errorf("Close = %v", err)
			}
		}
		if err := s.Write(ctx, events(1, "e")); !errors.Is(err, natssink.ErrClosed) {
			t.Errorf("Write after Close = %v, want ErrClosed", err)
		}
	}
	if nc.IsClosed() {
		t.Error("Close closed the connection given WithConn")
	}
	for deadline := time.Now().Add(10 * time.Second); srv.NumClients() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients after Close, want 1: the given connection alone", srv.NumClients())
		}
	}
}
