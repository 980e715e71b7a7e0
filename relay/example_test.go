package relay_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/relay"
)

// A relay of one's own, configured as `multitrack relay` is: the stream and
// consumer from MULTITRACK_NATS_* and MULTITRACK_RELAY_*, the sinks from
// MULTITRACK_SINKS.
func ExampleRelay_Run() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	env := registry.Env{}
	settings, err := env.Relay()
	if err != nil {
		log.Fatal(err)
	}
	nc, err := settings.NATS.Connect(natsgo.Name("my-relay"))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	r, err := relay.New(js, settings.NATS, env.Tracker,
		relay.WithConsumer(settings.Consumer), relay.WithMaxDeliver(settings.MaxDeliver), relay.WithDeadLetter(settings.DeadLetter))
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Run(ctx); err != nil { // returns after SIGTERM, the batch in flight delivered
		log.Fatal(err)
	}
}
