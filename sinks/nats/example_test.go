package nats_test

import (
	"context"
	"log"
	"time"

	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
)

// A service publishes its events to a three-node NATS cluster; `multitrack
// relay` delivers them to PostHog from there.
func ExampleNew() {
	sink, err := natssink.New(natssink.WithConfig(natssink.Config{
		URL:      "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222",
		Replicas: 3, // when the stream is created
		MaxAge:   7 * 24 * time.Hour,
		Token:    "from-a-secret", // or CredsFile
	}))
	if err != nil {
		log.Fatal(err) // names the URLs, never the token
	}
	t, err := tracker.New(tracker.WithSink("nats", sink), tracker.WithDeadLetter("/var/lib/app/dead.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close(context.Background())
	t.Capture(context.Background(), tracker.Event{Name: "warehouse_provisioned", DistinctID: "org_42"})
}
