package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

// A tracker with the stdout sink: the organization comes from the context,
// the SQL text is removed, and Close delivers what is queued.
func Example() {
	sink, err := stdout.New(stdout.WithWriter(os.Stdout), stdout.WithFormat(stdout.FormatJSON))
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := tracker.New(tracker.WithSink("stdout", sink))
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := tracker.WithOrganization(context.Background(), "org_42")
	t.Capture(ctx, tracker.Event{
		Name: "query_failed",
		// UUID and Timestamp are set at Capture when empty; fixed here so
		// that the output is stable.
		UUID:      "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f",
		Timestamp: time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC),
		Properties: map[string]any{
			"sqlstate":       "42P01",
			"error_category": "undefined_table",
			"query_text":     "SELECT * FROM orderz", // never sent
		},
	})
	if err := t.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("redacted:", t.Stats().Redacted)
	// Output:
	// {"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"error_category":"undefined_table","sqlstate":"42P01"}}
	// redacted: 1
}

// Events without an organization belong to "standalone" and carry no group.
func ExampleTracker_Capture_standalone() {
	rec := trackertest.NewRecorder()
	t, _ := tracker.New(tracker.WithSink("recorder", rec))
	t.Capture(context.Background(), tracker.Event{Name: "cli_started"})
	_ = t.Close(context.Background())
	e := rec.Events()[0]
	fmt.Println(e.Name, e.DistinctID, len(e.Groups))
	// Output: cli_started standalone 0
}

// Stats say what happened to every event.
func ExampleTracker_Stats() {
	rec := trackertest.NewRecorder()
	t, _ := tracker.New(tracker.WithSink("recorder", rec))
	t.Capture(context.Background(), tracker.Event{Name: "ok"})
	t.Capture(context.Background(), tracker.Event{}) // no name: rejected
	_ = t.Close(context.Background())
	s := t.Stats()
	fmt.Printf("captured %d, kept %d, rejected %d, delivered %d\n",
		s.Captured, s.Kept, s.Rejected.EmptyName, s.Sinks["recorder"].Delivered)
	// Output: captured 2, kept 1, rejected 1, delivered 1
}

// A nil tracker, like Default before SetDefault, captures nothing.
func ExampleDefault() {
	tracker.Capture(context.Background(), tracker.Event{Name: "ignored"}) // no-op
	fmt.Println(tracker.Default() == nil)
	// Output: true
}

// WithOrganization puts the organization in the context once (in
// authentication middleware, say); every event captured with that context
// belongs to it.
func ExampleWithOrganization() {
	rec := trackertest.NewRecorder()
	t, _ := tracker.New(tracker.WithSink("recorder", rec))
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	t.Capture(ctx, tracker.Event{Name: "query_initiated", DistinctID: "alice"})
	_ = t.Close(context.Background())
	e := rec.Events()[0]
	fmt.Println(e.DistinctID, e.Groups["organization"])
	// Output: alice org_42
}

// Close delivers what is queued within its deadline, and names in its error
// what it could not deliver, and where those events went.
func ExampleTracker_Close() {
	t, _ := tracker.New(tracker.WithSink("broken", brokenSink{}))
	t.Capture(context.Background(), tracker.Event{Name: "e"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := t.Close(ctx)
	var ue *tracker.UndeliveredError
	if errors.As(err, &ue) {
		fmt.Println(ue.Sink, ue.Count)
	}
	// Output: broken 1
}

// WithUndeliveredHook tells the caller which of its events a sink did not
// deliver, and why; once Flush returns, every report for the events
// captured before it has been made.
func ExampleWithUndeliveredHook() {
	var mu sync.Mutex
	var lost []string
	t, _ := tracker.New(
		tracker.WithSink("broken", brokenSink{}),
		tracker.WithUndeliveredHook(func(sink string, events []tracker.Event, reason error) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events { // the slice is not ours to keep
				lost = append(lost, fmt.Sprintf("%s: %s: %v (queue full: %v)", sink, e.Name, reason, errors.Is(reason, tracker.ErrQueueFull)))
			}
		}),
	)
	t.Capture(context.Background(), tracker.Event{Name: "signed_up"})
	_ = t.Flush(context.Background())
	mu.Lock()
	fmt.Println(strings.Join(lost, "\n"))
	mu.Unlock()
	_ = t.Close(context.Background())
	// Output: broken: signed_up: backend down (queue full: false)
}

// brokenSink fails every Write.
type brokenSink struct{}

func (brokenSink) Write(context.Context, []tracker.Event) error { return errors.New("backend down") }
func (brokenSink) Close(context.Context) error                  { return nil }
