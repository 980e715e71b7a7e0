// Package natstest runs in-process NATS JetStream servers on loopback ports
// for tests: one server, a server restarted on the same port and store, and
// a cluster.
package natstest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/multitrack/multitrack/tracker"
)

// Options returns the options of a JetStream server on a random loopback
// port storing in dir.
func Options(dir string) *server.Options {
	return &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
		// Small limits: tests run side by side on a small machine.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  1 << 30,
	}
}

// Start starts a server with opts and waits until it takes connections; it
// is shut down when the test ends.
func Start(tb testing.TB, opts *server.Options) *server.Server {
	tb.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		tb.Fatal("nats server: not ready after 10s")
	}
	started.Store(s, opts)
	tb.Cleanup(func() { Stop(s); started.Delete(s) })
	return s
}

// started holds the options each server was started with, for Restart.
var started sync.Map // *server.Server -> *server.Options

// Run starts a JetStream server on a random loopback port with its store in
// a temporary directory.
func Run(tb testing.TB) *server.Server {
	tb.Helper()
	return Start(tb, Options(tb.TempDir()))
}

// Stop shuts s down and waits until it has.
func Stop(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart stops s and starts a server with its options (so its port and
// store) again after pause.
func Restart(tb testing.TB, s *server.Server, pause time.Duration) *server.Server {
	tb.Helper()
	o, ok := started.Load(s)
	if !ok {
		tb.Fatal("natstest.Restart: a server not started by Start")
	}
	opts := o.(*server.Options).Clone()
	opts.Port = Port(tb, s)
	Stop(s)
	time.Sleep(pause)
	return Start(tb, opts)
}

// Port returns the client port s listens on.
func Port(tb testing.TB, s *server.Server) int {
	tb.Helper()
	u, err := url.Parse(s.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Cluster starts n JetStream servers routed to each other as one cluster,
// and waits until JetStream has a meta leader.
func Cluster(tb testing.TB, n int) []*server.Server {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = FreePort(tb)
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))})
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		o := Options(tb.TempDir())
		o.ServerName = fmt.Sprintf("S-%d", i+1)
		o.Cluster.Name = "multitrack-test"
		o.Cluster.Host = "127.0.0.1"
		o.Cluster.Port = ports[i]
		o.Routes = routes
		s, err := server.NewServer(o)
		if err != nil {
			tb.Fatalf("nats server: %v", err)
		}
		s.Start()
		servers[i] = s
		tb.Cleanup(func() { Stop(s) })
	}
	for _, s := range servers {
		if !s.ReadyForConnections(10 * time.Second) {
			tb.Fatal("nats cluster: a server is not ready after 10s")
		}
	}
	nc, err := natsgo.Connect(URLs(servers))
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return servers
		}
		if time.Now().After(deadline) {
			tb.Fatalf("nats cluster: JetStream not ready after 20s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URLs returns the client URLs of servers, comma-separated.
func URLs(servers []*server.Server) string {
	s := ""
	for i, srv := range servers {
		if i > 0 {
			s += ","
		}
		s += srv.ClientURL()
	}
	return s
}

// JetStream connects to url and returns a JetStream context on the
// connection, which is closed when the test ends.
func JetStream(tb testing.TB, url string) jetstream.JetStream {
	tb.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// Stream returns the named stream on the servers at url.
func Stream(tb testing.TB, url, name string) jetstream.Stream {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := JetStream(tb, url).Stream(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Events returns n events named name, for a test to publish: each with a
// valid UUID of its own, 0190f3c4-SSSS-7000-8000-<i>, where SSSS is series
// in hex, so that tests using different series never share a UUID (the
// stream drops a UUID it has seen as a duplicate); timestamps a microsecond
// apart; organization org_42; and the property "i", the event's index.
func Events(n int, name string, series uint16) []tracker.Event {
	ts := time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC)
	out := make([]tracker.Event, n)
	for i := range out {
		out[i] = tracker.Event{
			Name:       name,
			DistinctID: "org_42",
			Groups:     map[string]string{"organization": "org_42"},
			Properties: map[string]any{"i": int64(i)},
			Timestamp:  ts.Add(time.Duration(i) * time.Microsecond),
			UUID:       fmt.Sprintf("0190f3c4-%04x-7000-8000-%012d", series, i),
		}
	}
	return out
}
