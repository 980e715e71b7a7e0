package relay_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/natstest"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// TestSoakServerRestartsUnderLoad runs only with MULTITRACK_SOAK set (to the
// number of events, default 100000): a producer captures through the nats
// sink while a relay delivers, and the server is restarted three times;
// every event is relayed or in the producer's dead letter.
//
//	MULTITRACK_SOAK=200000 go test -race -run Soak -timeout 20m ./relay/
func TestSoakServerRestartsUnderLoad(t *testing.T) {
	v := os.Getenv("MULTITRACK_SOAK")
	if v == "" {
		t.Skip("set MULTITRACK_SOAK to run the soak")
	}
	total, err := strconv.Atoi(v)
	if err != nil || total <= 0 {
		total = 100000
	}
	srv := natstest.Run(t)
	url := srv.ClientURL()
	dead := t.TempDir() + "/dead.jsonl"
	sink, err := natssink.New(natssink.WithConfig(natssink.Config{URL: url, ReconnectWait: 50 * time.Millisecond}),
		natssink.WithAckTimeout(time.Second), natssink.WithRetryTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("nats", sink, tracker.WithOverflow(tracker.Block), tracker.WithBlockTimeout(time.Minute)),
		tracker.WithDeadLetter(dead))
	if err != nil {
		t.Fatal(err)
	}
	rec := trackertest.NewRecorder()
	r := startRelay(t, url, rec)

	all := testEvents(total, "query_initiated")
	for i, e := range all {
		tr.Capture(context.Background(), e)
		if i > 0 && i%(total/4) == 0 {
			srv = natstest.Restart(t, srv, 500*time.Millisecond)
		}
	}
	lost := closeProducer(t, tr, dead)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		got := uuids(rec.Events())
		missing := 0
		for _, e := range all {
			if !lost[e.UUID] && got[e.UUID] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged events never relayed", missing)
		}
		time.Sleep(time.Second)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d dead-lettered by the producer; sink %+v; relay %v", total, len(lost), sink.Stats(), r.Stats())
}
