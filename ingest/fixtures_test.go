package ingest

import (
	"encoding/json"
	"maps"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multitrack/multitrack/tracker"
)

// fixedNow is the server's clock in the fixture tests: well after every
// recording, so that clock-skew correction moves every timestamp.
var fixedNow = time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)

// TestRecordedRequestsReachTheSinkAsSent replays every request recorded from
// posthog-node and posthog-js (every route and encoding they use) and checks
// each event at the sink against the JSON the SDK encoded: name, distinct
// id, uuid, groups, every property with its exact JSON value, and the
// timestamp corrected for the client's clock.
func TestRecordedRequestsReachTheSinkAsSent(t *testing.T) {
	encodings := map[string]bool{}
	for _, f := range loadFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			r := newRig(t, WithClock(func() time.Time { return fixedNow }), WithMaxEvents(20))
			resp := r.do(f.request(t, r.url))
			want, sentAt := f.events()
			if len(want) > 20 {
				t.Fatalf("fixture has %d events; the test's limit is 20", len(want))
			}
			if resp.status != 200 || resp.raw != "{\"status\":1}\n" {
				t.Fatalf("answer %d %q", resp.status, resp.raw)
			}
			got := r.flushed()
			if len(got) != len(want) {
				t.Fatalf("%d events at the sink, %d sent", len(got), len(want))
			}
			for i, w := range want {
				checkEvent(t, i, got[i], w, sentAt)
			}
			encodings[f.headers["content-type"]+" "+f.headers["content-encoding"]] = true
		})
	}
	if len(encodings) < 4 {
		t.Errorf("fixtures cover only %v", sortedKeys(encodings))
	}
}

// TestOversizedBatchIsRefusedSoPostHogNodeHalvesIt replays posthog-node's own
// answer to 413: its batch of 8, then the two halves it sent next.
func TestOversizedBatchIsRefusedSoPostHogNodeHalvesIt(t *testing.T) {
	r := newRig(t, WithMaxEvents(4))
	byName := map[string]fixture{}
	for _, f := range loadFixtures(t) {
		byName[f.name] = f
	}
	first := r.do(byName["posthog-node-5.70.0/halving-1-of-8"].request(t, r.url))
	if first.status != 413 || first.body["code"] != "payload_too_large" {
		t.Fatalf("8 events over a limit of 4: %d %q", first.status, first.raw)
	}
	for _, name := range []string{"halving-2-of-4", "halving-3-of-4"} {
		if resp := r.do(byName["posthog-node-5.70.0/"+name].request(t, r.url)); resp.status != 200 {
			t.Fatalf("%s: %d %q", name, resp.status, resp.raw)
		}
	}
	if got := r.flushed(); len(got) != 8 {
		t.Fatalf("%d events delivered, want the 8 of the halves", len(got))
	}
}

func checkEvent(t *testing.T, i int, got tracker.Event, w map[string]any, sentAt string) {
	t.Helper()
	props, _ := w["properties"].(map[string]any)
	props = maps.Clone(props)
	if props == nil {
		props = map[string]any{}
	}
	if got.Name != w["event"] {
		t.Errorf("event %d: name %q, sent %v", i, got.Name, w["event"])
	}
	id := w["distinct_id"]
	if id == nil {
		id = props["distinct_id"]
	}
	if got.DistinctID != toString(id) {
		t.Errorf("event %d: distinct_id %q, sent %v", i, got.DistinctID, id)
	}
	if u, ok := w["uuid"].(string); ok {
		if got.UUID != u {
			t.Errorf("event %d: uuid %q, sent %q", i, got.UUID, u)
		}
	} else if v, err := uuid.Parse(got.UUID); err != nil || v.Version() != 7 {
		t.Errorf("event %d: sent without a uuid, got %q, want a UUIDv7", i, got.UUID)
	}

	var wantGroups map[string]string
	if g, ok := props["$groups"].(map[string]any); ok && len(g) > 0 {
		wantGroups = map[string]string{}
		for k, v := range g {
			wantGroups[k] = toString(v)
		}
	}
	if !reflect.DeepEqual(got.Groups, wantGroups) {
		t.Errorf("event %d: groups %v, sent %v", i, got.Groups, wantGroups)
	}
	delete(props, "$groups")
	delete(props, "token")
	// Nothing else is removed: PostHog's own $session_id and
	// $lib_rate_limit_remaining_tokens look secret but are kept (internal/secret).
	for _, k := range []string{"$set", "$set_once"} {
		if top, ok := w[k].(map[string]any); ok {
			merged, _ := props[k].(map[string]any)
			merged = maps.Clone(merged)
			if merged == nil {
				merged = map[string]any{}
			}
			maps.Copy(merged, top)
			props[k] = merged
		}
	}
	if !reflect.DeepEqual(got.Properties, props) {
		for k := range maps.Keys(props) {
			if !reflect.DeepEqual(got.Properties[k], props[k]) {
				t.Errorf("event %d: property %q = %#v, sent %#v", i, k, got.Properties[k], props[k])
			}
		}
		for k := range got.Properties {
			if _, ok := props[k]; !ok {
				t.Errorf("event %d: property %q was not sent", i, k)
			}
		}
	}

	want := fixedNow
	ts, hasTS := w["timestamp"].(string)
	sent, hasSent := w["sent_at"].(string)
	if !hasSent {
		sent, hasSent = sentAt, sentAt != ""
	}
	switch off, hasOff := w["offset"].(json.Number); {
	case hasTS && hasSent:
		want = mustTime(t, ts).Add(fixedNow.Sub(mustTime(t, sent)))
	case hasOff:
		ms, _ := off.Int64()
		want = fixedNow.Add(-time.Duration(ms) * time.Millisecond)
	case hasTS:
		want = mustTime(t, ts)
	}
	if !got.Timestamp.Equal(want) {
		t.Errorf("event %d: timestamp %v, want %v", i, got.Timestamp, want)
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
