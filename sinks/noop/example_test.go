package noop_test

import (
	"context"
	"fmt"

	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

// A noop sink accepts every batch and keeps nothing.
func Example() {
	s := noop.New()
	err := s.Write(context.Background(), []tracker.Event{{Name: "query_initiated"}})
	fmt.Println(err, s.Close(context.Background()))
	// Output: <nil> <nil>
}

// Behind a tracker, a noop sink sends nothing while the tracker still
// validates, samples and counts.
func Example_tracker() {
	t, err := tracker.New(tracker.WithSink("noop", noop.New()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	t.Capture(ctx, tracker.Event{Name: "query_initiated"})
	t.Capture(ctx, tracker.Event{Name: "query_initiated"})
	t.Capture(ctx, tracker.Event{Name: ""}) // rejected: no name
	if err := t.Close(ctx); err != nil {
		fmt.Println(err)
	}
	st := t.Stats()
	fmt.Println("captured:", st.Captured, "rejected:", st.Rejected.Total(), "delivered:", st.Sinks["noop"].Delivered)
	// Output: captured: 3 rejected: 1 delivered: 2
}
