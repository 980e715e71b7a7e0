package bench_test

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/bench"
	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/relay"
	"github.com/multitrack/multitrack/sinks/file"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

// natsRound is how many events a round of the NATS benchmarks moves: a
// multiple of the relay's batch (relay.DefaultBatchSize), so that no fetch
// waits for a batch to fill.
const natsRound = 20 * relay.DefaultBatchSize

// BenchmarkNATSSink compares events/s from Capture through the nats sink
// into a JetStream stream (one in-process server, file storage), until
// JetStream has acknowledged them all (Flush), with the same event lines
// published by a bare nats.go JetStream client (asynchronously, Nats-Msg-Id
// set, at most 1024 in flight, as the sink does) until every ack is in.
// Each op is a round of natsRound events; events/s and anchor-events/s are
// the two rates.
func BenchmarkNATSSink(b *testing.B) {
	srv := natstest.Run(b)
	sink, err := natssink.New(natssink.WithConfig(natssink.Config{URL: srv.ClientURL(), Stream: "SINK", Subject: "sink.events"}))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("nats", sink, tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close(context.Background()) })
	js := natstest.JetStream(b, srv.ClientURL())
	createBareStream(b, js, srv.ClientURL())
	ctx, e := bench.OrgContext(), bench.Event()
	subject := bench.Side{Name: "multitrack", Run: func(rounds int) {
		for range rounds * natsRound {
			tr.Capture(ctx, e)
		}
		if err := tr.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}}
	anchor := bench.Side{Name: "nats.go", Run: func(rounds int) {
		for range rounds {
			publishBare(b, js, natsRound)
		}
	}}
	per, anchorPer := bench.Compare(b, 1, true, anchor, subject)
	b.ReportMetric(natsRound*float64(time.Second)/float64(per), "events/s")
	b.ReportMetric(natsRound*float64(time.Second)/float64(anchorPer), "anchor-events/s")
	if st := tr.Stats().Sinks["nats"]; st.Delivered != uint64(b.N*natsRound) {
		b.Fatalf("delivered %d of %d: %+v", st.Delivered, b.N*natsRound, st)
	}
}

// publishBare publishes n event lines as the nats sink would, resolved as
// Capture resolves them, and waits for every ack.
func publishBare(tb testing.TB, js jetstream.JetStream, n int) {
	var buf []byte
	for range n {
		e := resolved()
		var err error
		if buf, err = eventline.Append(buf[:0], &e); err != nil {
			tb.Fatal(err)
		}
		msg := &natsgo.Msg{Subject: "bare.events." + e.Name, Data: append([]byte(nil), buf[:len(buf)-1]...)}
		if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(e.UUID)); err != nil {
			tb.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		tb.Fatal("acks still pending after a minute")
	}
}

// createBareStream creates the anchor's stream, BARE, taking bare.events.>,
// as the nats sink creates its own (the same storage, replicas and
// duplicate window), so that both sides publish into alike streams.
func createBareStream(tb testing.TB, js jetstream.JetStream, url string) {
	cfg := natssink.Config{URL: url, Stream: "BARE", Subject: "bare.events"}
	if _, err := cfg.EnsureStream(context.Background(), js); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRelay compares events/s from a JetStream stream (filled before
// each round, untimed) through multitrack relay into a file sink, every
// message acknowledged after delivery, with a bare nats.go pull consumer
// doing the same: fetching batches of 256, writing the lines through a
// bufio.Writer to a file, flushing, then acknowledging each message. Each
// op is a round of natsRound events.
func BenchmarkRelay(b *testing.B) {
	srv := natstest.Run(b)
	url, dir := srv.ClientURL(), b.TempDir()
	js := natstest.JetStream(b, url)
	relayCfg := natssink.Config{URL: url, Stream: "RELAY", Subject: "relay.events"}
	pub, err := natssink.New(natssink.WithConfig(relayCfg))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pub.Close(context.Background()) })
	createBareStream(b, js, url)
	fill := func(subject string) func(int) {
		return func(rounds int) {
			if subject == "" {
				events := make([]tracker.Event, natsRound)
				for i := range events {
					events[i] = resolved()
				}
				for range rounds {
					if err := pub.Write(context.Background(), events); err != nil {
						b.Fatal(err)
					}
					for i := range events {
						events[i].UUID = resolved().UUID
					}
				}
				return
			}
			for range rounds {
				publishBare(b, js, natsRound)
			}
		}
	}

	sink, err := file.New(filepath.Join(dir, "relay.jsonl"), file.WithMaxSizeMB(0), file.WithSync(file.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	r, err := relay.New(js, relayCfg, func(o ...tracker.Option) (*tracker.Tracker, error) {
		return tracker.New(append(o, tracker.WithSink("file", sink))...)
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Error(err)
		}
	})
	var relayed uint64
	subject := bench.Side{Name: "multitrack", Prepare: fill(""), Run: func(rounds int) {
		relayed += uint64(rounds * natsRound)
		for r.Stats().Delivered < relayed {
			time.Sleep(100 * time.Microsecond)
		}
	}}
	bare := newBareConsumer(b, js, filepath.Join(dir, "bare.jsonl"))
	anchor := bench.Side{Name: "nats.go", Prepare: fill("bare"), Run: func(rounds int) { bare.consume(b, rounds*natsRound) }}
	per, anchorPer := bench.Compare(b, 1, true, anchor, subject)
	b.ReportMetric(natsRound*float64(time.Second)/float64(per), "events/s")
	b.ReportMetric(natsRound*float64(time.Second)/float64(anchorPer), "anchor-events/s")
}

// resolved is the benchmark event as Capture resolves it, with a random
// UUID.
func resolved() tracker.Event {
	e := bench.Event()
	e.DistinctID, e.Groups, e.Timestamp = bench.Org, map[string]string{tracker.GroupOrganization: bench.Org}, time.Now()
	e.UUID = uuidV4(rand.Uint64(), rand.Uint64())
	return e
}

// bareConsumer is the relay's anchor: a durable pull consumer writing the
// lines to a file.
type bareConsumer struct {
	cons jetstream.Consumer
	f    *os.File
	w    *bufio.Writer
}

func newBareConsumer(tb testing.TB, js jetstream.JetStream, path string) *bareConsumer {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, "BARE", jetstream.ConsumerConfig{
		Durable: "bare", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4096,
	})
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return &bareConsumer{cons: cons, f: f, w: bufio.NewWriterSize(f, 256<<10)}
}

// consume writes n messages' lines to the file and acknowledges them.
func (c *bareConsumer) consume(tb testing.TB, n int) {
	for n > 0 {
		batch, err := c.cons.Fetch(min(n, 256), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			_, _ = c.w.Write(m.Data())
			_ = c.w.WriteByte('\n')
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil {
			tb.Fatal(err)
		}
		if err := c.w.Flush(); err != nil {
			tb.Fatal(err)
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				tb.Fatal(err)
			}
		}
		n -= len(msgs)
	}
}
