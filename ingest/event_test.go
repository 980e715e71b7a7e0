package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestTimestampsAreCorrectedForTheClientsClock(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	hourAgo := now.Add(-time.Hour).Format(time.RFC3339Nano)
	cases := []struct {
		name string
		json string
		want time.Time
	}{
		{"sent_at an hour behind", `{"timestamp":"` + now.Add(-time.Hour-time.Second).Format(time.RFC3339Nano) + `","sent_at":"` + hourAgo + `"}`, now.Add(-time.Second)},
		{"$ignore_sent_at", `{"timestamp":"2026-06-01T10:00:00Z","sent_at":"` + hourAgo + `","properties":{"$ignore_sent_at":true}}`, now.Add(-2 * time.Hour)},
		{"offset", `{"offset":1500}`, now.Add(-1500 * time.Millisecond)},
		{"timestamp alone", `{"timestamp":"2026-05-31T12:00:00+02:00"}`, time.Date(2026, 5, 31, 10, 0, 0, 0, time.UTC)},
		{"no zone is UTC", `{"timestamp":"2026-05-31T12:00:00.5"}`, time.Date(2026, 5, 31, 12, 0, 0, 5e8, time.UTC)},
		{"milliseconds", `{"timestamp":1780000000000}`, time.UnixMilli(1780000000000)},
		{"nothing", `{}`, now},
		{"unreadable", `{"timestamp":"yesterday"}`, now},
		{"a day ahead", `{"timestamp":"2026-06-02T13:00:00Z"}`, now},
	}
	for _, c := range cases {
		var e wireEvent
		if err := json.Unmarshal([]byte(c.json), &e); err != nil {
			t.Fatal(err)
		}
		m := eventMapper{now: now}
		if got := m.timestamp(&e, e.Properties); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestUUIDsAreKeptCanonicalOrMadeStable(t *testing.T) {
	const u = "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f"
	if got := eventUUID(json.RawMessage(`"` + u + `"`)); got != u {
		t.Errorf("canonical: %q", got)
	}
	if got := eventUUID(json.RawMessage(`"` + strings.ToUpper(u) + `"`)); got != u {
		t.Errorf("upper case: %q", got)
	}
	a, b := eventUUID(json.RawMessage(`"order-1"`)), eventUUID(json.RawMessage(`"order-1"`))
	if v, err := uuid.Parse(a); a != b || err != nil || v.Version() != 5 {
		t.Errorf("not a UUID: %q then %q, want the same UUIDv5", a, b)
	}
	if v, err := uuid.Parse(eventUUID(nil)); err != nil || v.Version() != 7 {
		t.Errorf("missing: %v %v", v, err)
	}
}

// TestInvalidUUIDBecomesThePostHogSinksUUIDv5: an event whose uuid is not a
// UUID gets the same UUIDv5 here as the PostHog sink would send for it.
func TestInvalidUUIDBecomesThePostHogSinksUUIDv5(t *testing.T) {
	downstream := newRig(t)
	sink, err := posthog.New(testKey, posthog.WithEndpoint(downstream.url), posthog.WithInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("posthog", sink))
	if err != nil {
		t.Fatal(err)
	}
	tr.Capture(context.Background(), tracker.Event{Name: "legacy", DistinctID: "u", UUID: "order-1"})
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := downstream.flushed()
	if len(got) != 1 || got[0].UUID != eventUUID(json.RawMessage(`"order-1"`)) {
		t.Fatalf("the PostHog sink sent %+v; serve maps order-1 to %s", got, eventUUID(json.RawMessage(`"order-1"`)))
	}
}

func TestGroupsSetAndNumbersMapAsPostHogDoes(t *testing.T) {
	r := newRig(t)
	body := `{"api_key":"phc_test_project_key","batch":[{"event":"e","distinct_id":12345678901234567890,
		"properties":{"$groups":{"organization":"org_1","team":7,"gone":null},"$set":{"a":1,"b":1},
			"n":12345678901234567890,"huge":123456789012345678901234567890,"f":1.0,"e":-2.5e-3},
		"$set":{"b":2},"$set_once":{"first":"x"}}]}`
	if resp := r.post("/batch/", []byte(body)); resp.status != 200 {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	got := r.flushed()[0]
	if got.DistinctID != "12345678901234567890" {
		t.Errorf("numeric distinct_id: %q", got.DistinctID)
	}
	if want := map[string]string{"organization": "org_1", "team": "7"}; !reflect.DeepEqual(got.Groups, want) {
		t.Errorf("groups %v", got.Groups)
	}
	want := map[string]any{
		"$set": map[string]any{"a": json.Number("1"), "b": json.Number("2")}, "$set_once": map[string]any{"first": "x"},
		"n": json.Number("12345678901234567890"), "huge": json.Number("123456789012345678901234567890"),
		"f": json.Number("1.0"), "e": json.Number("-2.5e-3"),
	}
	if !reflect.DeepEqual(got.Properties, want) {
		t.Errorf("properties %#v", got.Properties)
	}
}

// TestPropertiesRoundTripThroughRealSinks sends posthog-node's recorded
// batch through the file sink and through the PostHog sink (posthog-go) to
// a second multitrack serve: every property comes out as it went in, the
// integers as integers with all their digits.
func TestPropertiesRoundTripThroughRealSinks(t *testing.T) {
	var f fixture
	for _, x := range loadFixtures(t) {
		if x.name == "posthog-node-5.70.0/batch-plain" {
			f = x
		}
	}
	sent, _ := f.events()

	path := filepath.Join(t.TempDir(), "events.jsonl")
	fileSink, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	downstream := newRig(t)
	phSink, err := posthog.New(testKey, posthog.WithEndpoint(downstream.url), posthog.WithInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.WithSink("file", fileSink), tracker.WithSink("posthog", phSink))
	if err != nil {
		t.Fatal(err)
	}
	up := newRigOn(t, tr, (*trackertest.Recorder)(nil))
	if resp := up.do(f.request(t, up.url)); resp.status != 200 {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The file: each property's JSON text as sent.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != len(sent) {
		t.Fatalf("%d lines in the file, %d events sent", len(lines), len(sent))
	}
	for i, line := range lines {
		var got struct{ Properties map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range sent[i]["properties"].(map[string]any) {
			want, _ := json.Marshal(v)
			if string(got.Properties[k]) != string(want) {
				t.Errorf("file, event %d: %s = %s, sent %s", i, k, got.Properties[k], want)
			}
		}
	}
	events, _, err := eventline.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := events[0].Properties; p["seats"] != int64(42) || p["big"] != int64(9007199254740991) || p["ratio"] != 0.25 {
		t.Errorf("read back: seats %#v, big %#v, ratio %#v", p["seats"], p["big"], p["ratio"])
	}

	// PostHog: posthog-go's request, read by another multitrack serve.
	got := downstream.flushed()
	if len(got) != len(sent) {
		t.Fatalf("%d events reached the second serve, %d sent", len(got), len(sent))
	}
	for i, e := range got {
		for k, v := range sent[i]["properties"].(map[string]any) {
			if k == "$lib" || k == "$lib_version" {
				continue // posthog-go names itself
			}
			if !reflect.DeepEqual(e.Properties[k], v) {
				t.Errorf("posthog, event %d: %s = %#v, sent %#v", i, k, e.Properties[k], v)
			}
		}
		if e.UUID != sent[i]["uuid"] {
			t.Errorf("posthog, event %d: uuid %s, sent %s", i, e.UUID, sent[i]["uuid"])
		}
	}
}
