package deadletter

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/line"
)

func TestAppendEventsNamesEachEventsSinkAndLeavesTheCallersMapAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "dead.jsonl")
	d := New(path)
	defer d.Close()
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	props := map[string]any{"k": "v"}
	events := []struct {
		sink string
		f    line.Fields
	}{
		{"posthog", line.Fields{UUID: "u1", Name: "a", DistinctID: "d", Timestamp: ts, Properties: props}},
		{"bad", line.Fields{UUID: "u2", Name: "b", DistinctID: "d", Timestamp: ts, Properties: map[string]any{"c": make(chan int)}}},
		{"file", line.Fields{UUID: "u3", Name: "c", DistinctID: "d", Timestamp: ts}},
	}
	n, err := d.AppendEvents(len(events), func(i int) (string, line.Fields) { return events[i].sink, events[i].f })
	if n != 2 || !errors.Is(err, json.ErrUnencodable) {
		t.Fatalf("AppendEvents = %d, %v; want 2 and the encoding error", n, err)
	}
	if len(props) != 1 {
		t.Errorf("the caller's properties were changed: %v", props)
	}
	var want []byte
	for _, i := range []int{0, 2} {
		f := events[i].f
		f.Properties = map[string]any{PropSink: events[i].sink}
		if i == 0 {
			f.Properties["k"] = "v"
		}
		if want, err = line.Append(want, &f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != string(want) {
		t.Fatalf("file:\n%s\nwant:\n%s(%v)", got, want, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != FileMode {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}
}
