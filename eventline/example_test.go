package eventline_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// Append writes one event line; the same event always gives the same bytes.
func ExampleAppend() {
	e := tracker.Event{
		UUID:       "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f",
		Name:       "query_failed",
		DistinctID: "org_42",
		Timestamp:  time.Date(2026, 11, 28, 10, 15, 3, 123456789, time.UTC),
		Groups:     map[string]string{tracker.GroupOrganization: "org_42"},
		Properties: map[string]any{"sqlstate": "42P01", "duration_ms": 12.0},
	}
	line, err := eventline.Append(nil, &e)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(line))
	// Output:
	// {"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"duration_ms":12.0,"sqlstate":"42P01"}}
}

// ReadFile reads a dead-letter file back in one call: each event names the
// sink it could not reach, and a line torn by a crash is skipped with a
// warning.
func ExampleReadFile() {
	dir, err := os.MkdirTemp("", "eventline")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dead-letter.jsonl")
	data := `{"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","properties":{"$multitrack_sink":"posthog","rows":3}}` + "\n" +
		`{"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	events, warnings, err := eventline.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range events {
		fmt.Println(e.Name, e.Properties[tracker.PropSink], e.Properties["rows"])
	}
	fmt.Println(len(warnings), "torn line skipped")
	// Output:
	// query_failed posthog 3
	// 1 torn line skipped
}
