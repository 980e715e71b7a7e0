package stdout_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

var exampleEvent = tracker.Event{
	UUID:       "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f",
	Name:       "query_failed",
	DistinctID: "org_42",
	Timestamp:  time.Date(2026, 11, 28, 10, 15, 3, 123456000, time.UTC),
	Groups:     map[string]string{"organization": "org_42"},
	Properties: map[string]any{"sqlstate": "42P01", "error_category": "undefined_table", "duration_ms": 3.5},
}

// JSON lines, the event-line format that the file sink writes and replay
// reads.
func Example_json() {
	s, err := stdout.New(stdout.WithWriter(os.Stdout), stdout.WithFormat(stdout.FormatJSON))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(context.Background())
	if err := s.Write(context.Background(), []tracker.Event{exampleEvent}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"duration_ms":3.5,"error_category":"undefined_table","sqlstate":"42P01"}}
}

// Pretty lines for humans: what FormatAuto picks on a terminal, where they are
// coloured. Here colours are off and times in UTC so that the output is
// stable.
func Example_pretty() {
	s, err := stdout.New(
		stdout.WithWriter(os.Stdout),
		stdout.WithFormat(stdout.FormatPretty),
		stdout.WithColor(false),
		stdout.WithLocation(time.UTC),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(context.Background())
	if err := s.Write(context.Background(), []tracker.Event{exampleEvent}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 10:15:03.123 query_failed distinct_id=org_42 organization=org_42 duration_ms=3.5 error_category=undefined_table sqlstate=42P01
}

// ParseFormat reads MULTITRACK_STDOUT_FORMAT's values.
func ExampleParseFormat() {
	for _, v := range []string{"json", "pretty", "", "xml"} {
		f, err := stdout.ParseFormat(v)
		fmt.Println(f, err)
	}
	// Output:
	// json <nil>
	// pretty <nil>
	// auto <nil>
	// auto stdout format "xml": want auto, json or pretty
}

// The stdout sink behind a tracker: what `multitrack demo` shows on a
// terminal.
func Example_tracker() {
	s, err := stdout.New(stdout.WithFormat(stdout.FormatPretty), stdout.WithColor(false), stdout.WithLocation(time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := tracker.New(tracker.WithSink("stdout", s))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	at := time.Date(2026, 11, 28, 10, 15, 3, 0, time.UTC)
	t.Capture(ctx, tracker.Event{Name: "query_initiated", Timestamp: at, Properties: map[string]any{"rows": 1042}})
	t.Capture(ctx, tracker.Event{Name: "query_failed", Timestamp: at.Add(time.Second), Properties: map[string]any{"sqlstate": "42P01"}})
	if err := t.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 10:15:03.000 query_initiated distinct_id=org_42 organization=org_42 rows=1042
	// 10:15:04.000 query_failed distinct_id=org_42 organization=org_42 sqlstate=42P01
}
