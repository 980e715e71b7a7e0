package posthog

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

func orgEvent(id string, props map[string]any) tracker.Event {
	return tracker.Event{
		Name: "warehouse_provisioned", DistinctID: id, UUID: uuidv7.Canonical(""),
		Groups: map[string]string{tracker.GroupOrganization: id}, Properties: props,
	}
}

// identifies returns the $group_set of every $groupidentify accepted.
func identifies(f *posthogtest.Server) []map[string]any {
	var out []map[string]any
	for _, r := range f.Requests() {
		if r.Status != http.StatusOK {
			continue
		}
		for _, m := range r.Batch {
			if m["event"] == "$groupidentify" {
				out = append(out, m["properties"].(map[string]any))
			}
		}
	}
	return out
}

func TestGroupPropertiesAreIdentifiedWhenTheyChange(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	rec := &recorder{}
	s, _ := newTestSink(t, f.URL, WithGroupProperties(tracker.GroupOrganization, "plan", "region"))
	setWrap(s, func(e enqueuer) enqueuer { rec.next = e; return rec })
	events := []tracker.Event{
		orgEvent("org_42", map[string]any{"plan": "pro", "size": 2}),      // identify {plan: pro}
		orgEvent("org_42", map[string]any{"plan": "pro", "size": 4}),      // unchanged: none
		orgEvent("org_7", map[string]any{"size": 1}),                      // no group properties: none
		orgEvent("org_42", map[string]any{"plan": "pro", "region": "eu"}), // identify {plan, region}
		{Name: "cli_started", DistinctID: "standalone", UUID: uuidv7.Canonical(""), Properties: map[string]any{"plan": "x"}},
	}
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := identifies(f)
	if len(got) != 2 {
		t.Fatalf("%d $groupidentify sent, want 2: %v", len(got), got)
	}
	wantSets := []map[string]any{{"plan": "pro"}, {"plan": "pro", "region": "eu"}}
	for i, p := range got {
		if p["$group_type"] != "organization" || p["$group_key"] != "org_42" || !reflect.DeepEqual(p["$group_set"], wantSets[i]) {
			t.Errorf("$groupidentify %d = %v", i, p)
		}
	}
	// Handed to posthog-go in this order (batches may reach the server in
	// any order).
	wantOrder := []string{"$groupidentify", "warehouse_provisioned", "warehouse_provisioned", "warehouse_provisioned",
		"$groupidentify", "warehouse_provisioned", "cli_started"}
	if !reflect.DeepEqual(rec.names, wantOrder) {
		t.Errorf("enqueued %v, want %v", rec.names, wantOrder)
	}
	if n := len(f.Order()); n != len(wantOrder) {
		t.Errorf("server accepted %d messages, want %d", n, len(wantOrder))
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.Sent != uint64(len(events)) || st.GroupIdentifyFailures != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// recorder notes the event names handed to posthog-go, in order.
type recorder struct {
	next  enqueuer
	names []string
}

func (r *recorder) Enqueue(m ph.Message) error {
	switch m := m.(type) {
	case ph.Capture:
		r.names = append(r.names, m.Event)
	case ph.GroupIdentify:
		r.names = append(r.names, "$groupidentify")
	}
	return r.next.Enqueue(m)
}

// refuseGroupIdentify refuses the first left $groupidentify messages.
type refuseGroupIdentify struct {
	next       enqueuer
	left, seen int
}

func (r *refuseGroupIdentify) Enqueue(m ph.Message) error {
	if _, ok := m.(ph.GroupIdentify); ok {
		r.seen++
		if r.left > 0 {
			r.left--
			return ph.ErrQueueFull
		}
	}
	return r.next.Enqueue(m)
}

func TestRefusedGroupIdentifyIsSentAgain(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, _ := newTestSink(t, f.URL, WithGroupProperties(tracker.GroupOrganization, "plan"))
	refuseFirst := &refuseGroupIdentify{left: 1}
	setWrap(s, func(e enqueuer) enqueuer { refuseFirst.next = e; return refuseFirst })
	for range 3 {
		if err := s.Write(context.Background(), []tracker.Event{orgEvent("org_42", map[string]any{"plan": "pro"})}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The first $groupidentify was refused, so the second event sends it
	// again; the third has nothing new.
	if refuseFirst.seen != 2 {
		t.Errorf("%d $groupidentify handed over, want 2", refuseFirst.seen)
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 || st.Sent != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

// A $groupidentify PostHog rejects is forgotten: the group's next event
// carrying the properties identifies it again.
func TestRejectedGroupIdentifyIsSentAgain(t *testing.T) {
	f := posthogtest.NewServer(t, posthogtest.FailFirst(1, posthogtest.Answer{Status: http.StatusBadRequest}))
	s, c := newTestSink(t, f.URL, WithGroupProperties(tracker.GroupOrganization, "plan"), WithBatchSize(100))
	for range 2 {
		if err := s.Write(context.Background(), []tracker.Event{orgEvent("org_42", map[string]any{"plan": "pro"})}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(within(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if got := identifies(f); len(got) != 1 {
		t.Errorf("%d $groupidentify accepted, want 1 (sent again after the 400)", len(got))
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 || st.Sent != 1 || len(c.uuids()) != 1 {
		t.Errorf("Stats = %+v, undelivered %v", st, c.uuids())
	}
}

// A group property whose encoding panics fails the $groupidentify and the
// event; the group is identified again with the next event carrying it.
func TestPanickingGroupPropertyIsSentAgainLater(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, c := newTestSink(t, f.URL, WithGroupProperties(tracker.GroupOrganization, "plan"))
	events := makeEvents(3) // events 0 and 2 are for org_42
	events[0].Properties = map[string]any{"plan": boom{}}
	events[2].Properties = map[string]any{"plan": "pro"}
	writeOneUnencodable(t, s, c, f, events, 0)
	var sets []any
	for _, p := range identifies(f) {
		sets = append(sets, p["$group_set"])
	}
	if !reflect.DeepEqual(sets, []any{map[string]any{"plan": "pro"}}) {
		t.Errorf("$groupidentify sent with %v, want one with plan pro", sets)
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// GroupIdentify sends a $groupidentify of its own, at once on Flush, and
// refuses what it cannot send.
func TestGroupIdentifyAlone(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	s, _ := newTestSink(t, f.URL, WithInterval(time.Hour))
	if err := s.GroupIdentify(context.Background(), "organization", "org_9", map[string]any{"plan": "enterprise"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := identifies(f)
	if len(got) != 1 || got[0]["$group_key"] != "org_9" || !reflect.DeepEqual(got[0]["$group_set"], map[string]any{"plan": "enterprise"}) {
		t.Errorf("$groupidentify accepted: %v", got)
	}
	for _, tc := range []struct {
		typ, key string
		props    map[string]any
		want     string
	}{
		{"", "org_9", nil, "empty group type"},
		{"organization", " ", nil, "empty group key"},
		{"organization", "org_9", map[string]any{"v": boom{}}, `"v"`},
	} {
		if err := s.GroupIdentify(context.Background(), tc.typ, tc.key, tc.props); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("GroupIdentify(%q, %q) = %v, want an error naming %s", tc.typ, tc.key, err, tc.want)
		}
	}
	if st := s.Stats(); st.GroupIdentifies != 2 || st.GroupIdentifyFailures != 1 || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestParseGroupProperties(t *testing.T) {
	got, err := ParseGroupProperties(" organization: plan, region ;team:tier;organization:size")
	want := map[string][]string{"organization": {"plan", "region", "size"}, "team": {"tier"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("= %v, %v; want %v", got, err, want)
	}
	for spec, problem := range map[string]string{
		"":                     "no TYPE:KEY,KEY entry",
		"organization":         "entry 1: want TYPE:KEY,KEY",
		"organization:plan;:x": "entry 2: want TYPE:KEY,KEY",
		"a:;b:":                "entry 1 (a): no property keys\nentry 2 (b): no property keys",
	} {
		if _, err := ParseGroupProperties(spec); err == nil || !strings.Contains(err.Error(), problem) {
			t.Errorf("ParseGroupProperties(%q) = %v, want %q", spec, err, problem)
		}
	}
}
