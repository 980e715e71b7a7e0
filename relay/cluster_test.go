package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/multitrack/multitrack/internal/natstest"
	"github.com/multitrack/multitrack/relay"
	natssink "github.com/multitrack/multitrack/sinks/nats"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// A three-node cluster with a replicas-3 stream: the stream's leader is
// stopped while events are being published; every event JetStream
// acknowledged reaches the relay's sink.
func TestClusterLeaderStoppedMidPublishEveryAcknowledgedEventIsRelayed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	servers := natstest.Cluster(t, 3)
	urls := natstest.URLs(servers)
	cfg := natssink.Config{URL: urls, Replicas: 3, ReconnectWait: 50 * time.Millisecond}
	sink, err := natssink.New(natssink.WithConfig(cfg), natssink.WithAckTimeout(time.Second), natssink.WithRetryTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	dead := t.TempDir() + "/dead.jsonl"
	tr, err := tracker.New(tracker.WithSink("nats", sink, tracker.WithBatchSize(50), tracker.WithQueueSize(10000)), tracker.WithDeadLetter(dead))
	if err != nil {
		t.Fatal(err)
	}

	const total = 2000
	all := testEvents(total, "query_initiated")
	var leader *server.Server
	for i, e := range all {
		tr.Capture(context.Background(), e)
		if i%50 == 49 {
			time.Sleep(2 * time.Millisecond)
		}
		if i == total/3 {
			if err := tr.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			leader = streamLeader(t, urls, servers)
			natstest.Stop(leader)
		}
	}
	lost := closeProducer(t, tr, dead)
	if len(lost) > total/10 {
		t.Fatalf("%d of %d events not acknowledged across the election", len(lost), total)
	}

	var alive []*server.Server
	for _, s := range servers {
		if s != leader {
			alive = append(alive, s)
		}
	}
	rec := trackertest.NewRecorder()
	r := startRelay(t, natstest.URLs(alive), rec, relay.WithBatchSize(200))
	waitFor(t, "every acknowledged event", func() bool {
		got := uuids(rec.Events())
		for _, e := range all {
			if !lost[e.UUID] && got[e.UUID] == 0 {
				return false
			}
		}
		return true
	})
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped leader %s; %d acknowledged, %d dead-lettered; sink %+v; relay %v",
		leader.Name(), total-len(lost), len(lost), sink.Stats(), r.Stats())
}

// streamLeader returns the server leading the stream.
func streamLeader(t *testing.T, urls string, servers []*server.Server) *server.Server {
	t.Helper()
	info := natstest.Stream(t, urls, natssink.DefaultStream).CachedInfo()
	if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream is not replicated 3 times: %+v", info.Cluster)
	}
	for _, srv := range servers {
		if srv.Name() == info.Cluster.Leader {
			return srv
		}
	}
	t.Fatalf("leader %q is none of the servers", info.Cluster.Leader)
	return nil
}
