package relay_test

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/internal/syncbuf"
	"github.com/multitrack/multitrack/relay"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testEvents returns n events with UUIDs and timestamps of their own.
func testEvents(n int, name string) []tracker.Event { return natstest.Events(n, name, 0x1111) }

// publish writes events to the stream through the nats sink.
func publish(t testing.TB, url string, events []tracker.Event) {
	t.Helper()
	s, err := natssink.New(natssink.WithConfig(natssink.Config{URL: url}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	for i := 0; i < len(events); i += 500 {
		if err := s.Write(context.Background(), events[i:min(i+500, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
}

// running is a relay started by startRelay.
type running struct {
	*relay.Relay
	nc     *natsgo.Conn
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned err
	err    error
	log    *syncbuf.Buffer
}

// stop cancels the relay and returns Run's result.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(30 * time.Second):
		t.Fatal("relay did not stop within 30s")
		return nil
	}
}

// startRelay runs a relay on its own connection, delivering into sink.
func startRelay(t testing.TB, url string, sink tracker.Sink, opts ...relay.Option) *running {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	base := []relay.Option{relay.WithFetchWait(200 * time.Millisecond), relay.WithBackoff(10*time.Millisecond, 50*time.Millisecond),
		relay.WithShutdownTimeout(5 * time.Second), relay.WithLogger(zerolog.New(log))}
	sinkOpts := []tracker.SinkOption{tracker.WithFlushInterval(10 * time.Millisecond)}
	var trackerOpts []tracker.Option
	if w, ok := sink.(*configured); ok {
		sink, trackerOpts, sinkOpts = w.Sink, w.opts, append(sinkOpts, w.sinkOpts...)
	}
	newTracker := func(o ...tracker.Option) (*tracker.Tracker, error) {
		return tracker.New(append(append(o, trackerOpts...), tracker.WithSink("rec", sink, sinkOpts...))...)
	}
	r, err := relay.New(js, natssink.Config{URL: url}, newTracker, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{Relay: r, nc: nc, cancel: cancel, done: make(chan struct{}), log: log}
	go func() {
		defer close(run.done)
		run.err = r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-run.done
	})
	return run
}

// configured is a sink that startRelay adds with options of its own, to a
// tracker with options of its own.
type configured struct {
	tracker.Sink
	opts     []tracker.Option
	sinkOpts []tracker.SinkOption
}

// consumerInfo returns the relay consumer's state once no ack is pending,
// or as it is after 10s. The relay's acks have reached the server when Run
// returns (it flushes the connection), but the server applies them to the
// consumer on a goroutine of its own, so its counts settle a moment later.
func consumerInfo(t testing.TB, url string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := natstest.JetStream(t, url).Consumer(ctx, natssink.DefaultStream, relay.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	settled := time.Now().Add(10 * time.Second)
	for {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 || time.Now().After(settled) {
			return info
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or 60s pass (a bound for a loaded
// machine, not a speed check).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// uuids counts the events of each UUID.
func uuids(events []tracker.Event) map[string]int {
	m := make(map[string]int, len(events))
	for _, e := range events {
		m[e.UUID]++
	}
	return m
}

// flakySink fails every Write while failing is set, and records the rest.
type flakySink struct {
	trackertest.Recorder
	failing  atomic.Bool
	attempts sync.Map // UUID -> *atomic.Int32: Writes that carried it
}

var errSinkDown = errors.New("sink down")

func (s *flakySink) Write(ctx context.Context, events []tracker.Event) error {
	fail := s.failing.Load()
	for _, e := range events {
		n, _ := s.attempts.LoadOrStore(e.UUID, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
	}
	if fail {
		return errSinkDown
	}
	return s.Recorder.Write(ctx, events)
}

func (s *flakySink) attemptsOf(uuid string) int32 {
	n, ok := s.attempts.Load(uuid)
	if !ok {
		return 0
	}
	return n.(*atomic.Int32).Load()
}

// blockingSink delivers until blocked, then holds Write until its context
// ends.
type blockingSink struct {
	trackertest.Recorder
	block   atomic.Bool
	blocked chan struct{} // closed when a Write first blocks
	once    sync.Once
}

func (s *blockingSink) Write(ctx context.Context, events []tracker.Event) error {
	if s.block.Load() {
		s.once.Do(func() { close(s.blocked) })
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Recorder.Write(ctx, events)
}

// slowSink takes delay over each Write.
type slowSink struct {
	trackertest.Recorder
	delay   time.Duration
	started atomic.Bool
}

func (s *slowSink) Write(ctx context.Context, events []tracker.Event) error {
	s.started.Store(true)
	time.Sleep(s.delay)
	return s.Recorder.Write(ctx, events)
}

// jsPublish publishes raw data to the stream.
func jsPublish(nc *natsgo.Conn, subject string, data []byte) (*jetstream.PubAck, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return js.Publish(ctx, subject, data)
}

// closeProducer closes a producer's tracker and returns the UUIDs of the
// events it could not deliver, from its dead letter.
func closeProducer(t testing.TB, tr *tracker.Tracker, dead string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		t.Logf("producer close: %v", err)
	}
	undelivered, _, err := eventline.ReadFile(dead)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	lost := make(map[string]bool, len(undelivered))
	for _, e := range undelivered {
		lost[e.UUID] = true
	}
	return lost
}
