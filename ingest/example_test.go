package ingest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/multitrack/multitrack/ingest"
	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

// A PostHog SDK's batch, answered as PostHog would, and the event as the
// stdout sink writes it.
func Example() {
	sink, _ := stdout.New(stdout.WithWriter(os.Stdout), stdout.WithFormat(stdout.FormatJSON))
	tr, _ := tracker.New(tracker.WithSink("stdout", sink))
	srv, err := ingest.New(tr, ingest.WithAPIKeys("phc_project_key"))
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv) // in production: srv.Serve(ctx, listener)
	defer hs.Close()

	resp, err := http.Post(hs.URL+"/batch/", "application/json", strings.NewReader(`{"api_key": "phc_project_key", "batch": [
		{"event": "signed_up", "distinct_id": "user_1", "uuid": "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f",
		 "timestamp": "2026-11-28T10:15:03.123Z", "properties": {"plan": "pro", "seats": 42, "$groups": {"organization": "org_42"}}}]}`))
	if err != nil {
		panic(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(answer))
	_ = tr.Close(context.Background())
	// Output:
	// 200 {"status":1}
	// {"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"signed_up","distinct_id":"user_1","timestamp":"2026-11-28T10:15:03.123000Z","groups":{"organization":"org_42"},"properties":{"plan":"pro","seats":42}}
}

// Under AckDelivered a request is answered once every sink delivered its
// events: the tracker reports what a sink did not deliver to an Acks.
func ExampleWithDeliveredAck() {
	acks := ingest.NewAcks()
	sink, _ := stdout.New(stdout.WithWriter(io.Discard), stdout.WithFormat(stdout.FormatJSON))
	tr, _ := tracker.New(tracker.WithSink("stdout", sink), tracker.WithUndeliveredHook(acks.Undelivered))
	srv, err := ingest.New(tr, ingest.WithAPIKeys("phc_project_key"), ingest.WithDeliveredAck(acks))
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Post(hs.URL+"/e/", "application/json",
		strings.NewReader(`[{"event": "signed_up", "properties": {"distinct_id": "user_1", "token": "phc_project_key"}}]`))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "once written")
	_ = tr.Close(context.Background())
	// Output: 200 once written
}
