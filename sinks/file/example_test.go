package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/tracker"
)

// Write events to a file, then read the file back.
func Example() {
	dir, err := os.MkdirTemp("", "multitrack-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events", "events.jsonl")

	ctx := context.Background()
	s, err := file.New(path, file.WithSync(file.SyncAlways), file.WithMaxSizeMB(10), file.WithMaxBackups(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.Write(ctx, []tracker.Event{
		{Name: "warehouse_provisioned", DistinctID: "org_42", Timestamp: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
			Groups: map[string]string{"organization": "org_42"}, Properties: map[string]any{"region": "eu"}},
		{Name: "query_failed", DistinctID: "org_42", Timestamp: time.Date(2026, 11, 28, 10, 0, 1, 0, time.UTC),
			Properties: map[string]any{"sqlstate": "42P01", "rows": 0}},
	})
	if err != nil {
		fmt.Println(err)
	}
	if err := s.Close(ctx); err != nil {
		fmt.Println(err)
	}

	fi, _ := os.Stat(path)
	fmt.Println("mode:", fi.Mode())
	events, warnings, err := eventline.ReadFile(path)
	for _, e := range events {
		fmt.Println(e.Timestamp.Format(time.TimeOnly), e.Name, e.DistinctID, e.Groups, e.Properties)
	}
	fmt.Println(len(warnings), err)
	// Output:
	// mode: -rw-------
	// 10:00:00 warehouse_provisioned org_42 map[organization:org_42] map[region:eu]
	// 10:00:01 query_failed org_42 map[] map[rows:0 sqlstate:42P01]
	// 0 <nil>
}

// The file sink behind a tracker; Close flushes and fsyncs the file.
func Example_tracker() {
	dir, err := os.MkdirTemp("", "multitrack-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.jsonl")

	s, err := file.New(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := tracker.New(tracker.WithSink("file", s))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	t.Capture(ctx, tracker.Event{Name: "warehouse_provisioned", Properties: map[string]any{"region": "eu"}})
	t.Capture(ctx, tracker.Event{Name: "query_initiated", Properties: map[string]any{"rows": 1042}})
	if err := t.Close(context.Background()); err != nil {
		fmt.Println(err)
	}

	events, _, err := eventline.ReadFile(path)
	for _, e := range events {
		fmt.Println(e.Name, e.DistinctID, e.Properties, len(e.UUID))
	}
	fmt.Println(err)
	// Output:
	// warehouse_provisioned org_42 map[region:eu] 36
	// query_initiated org_42 map[rows:1042] 36
	// <nil>
}

// ParseSync reads MULTITRACK_FILE_SYNC's values.
func ExampleParseSync() {
	for _, v := range []string{"always", "interval", "never", ""} {
		s, err := file.ParseSync(v)
		fmt.Println(s, err)
	}
	// Output:
	// always <nil>
	// interval <nil>
	// never <nil>
	// interval <nil>
}
