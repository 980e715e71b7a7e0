package ingest

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker/trackertest"
)

// TestServeDrainsRequestsInFlight: when Serve's context ends, a request
// still sending its body is finished and answered, new connections are
// refused, and Serve returns nil.
func TestServeDrainsRequestsInFlight(t *testing.T) {
	tr, rec := trackertest.NewTracker(t)
	srv, err := New(tr, WithAPIKeys(testKey), WithDrainTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serving(t, srv)
	url := "http://" + addr + "/batch/"

	body := batch(testKey, ev("in_flight", "u", nil))
	pr, pw := io.Pipe()
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url, pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	if _, err := pw.Write(body[:10]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Requests == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // until the handler reads the body
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	for !srv.draining.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // Shutdown has closed the listener
	if _, err := http.Post(url, "application/json", nil); err == nil {
		t.Error("a new request was accepted while draining")
	}
	if _, err := pw.Write(body[10:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if status := <-answered; status != 200 {
		t.Errorf("the request in flight was answered %d", status)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := rec.WaitFor(wctx, 1); err != nil || got[0].Name != "in_flight" {
		t.Errorf("events %v, %v", got, err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestSlowClientsAreCutOffByTheTimeouts: a client that never finishes its
// headers, or its body, loses the connection after the read timeouts.
func TestSlowClientsAreCutOffByTheTimeouts(t *testing.T) {
	tr, _ := trackertest.NewTracker(t)
	srv, err := New(tr, WithAPIKeys(testKey), WithTimeouts(100*time.Millisecond, 300*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serving(t, srv)

	for name, partial := range map[string]string{
		"headers": "POST /batch/ HTTP/1.1\r\nHost: x\r\n",
		"body":    "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"api_key\":",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := conn.Write([]byte(partial)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.ReadAll(conn) // returns when the server closes the connection
		conn.Close()
		if err != nil || time.Since(start) > 5*time.Second {
			t.Errorf("%s: the server kept a stalled connection (%v, %v)", name, time.Since(start), err)
		}
	}
}
