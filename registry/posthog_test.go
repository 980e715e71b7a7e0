package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/internal/posthogtest"
	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/tracker"
)

// TestPostHogFromTheKeyAlone: POSTHOG_API_KEY alone selects the PostHog
// sink, which sends to POSTHOG_HOST (here a local server) with the batch
// settings of the environment; the key reaches PostHog and nowhere else.
func TestPostHogFromTheKeyAlone(t *testing.T) {
	srv := posthogtest.NewServer(t, nil)

	h := loadFixture(t, "posthog_default")
	h.env["POSTHOG_HOST"] = srv.URL
	key := h.env["POSTHOG_API_KEY"]
	tr, err := h.registryEnv().Tracker()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Stats().Sinks["posthog"]; !ok || len(tr.Stats().Sinks) != 1 {
		t.Fatalf("sinks %v, want posthog alone", tr.Stats().Sinks)
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	tr.Capture(ctx, tracker.Event{Name: "warehouse_provisioned", Properties: map[string]any{"size": "xl"}})
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := tr.Stats().Sinks["posthog"]; s.Delivered != 1 || s.Undelivered != 0 {
		t.Errorf("posthog sink stats %+v, want 1 delivered", s)
	}
	var sent []string
	for _, r := range srv.Requests() {
		if r.APIKey != key {
			t.Error("a batch without the API key of the environment")
		}
		for _, m := range r.Batch {
			name, _ := m["event"].(string)
			sent = append(sent, name)
			props, _ := m["properties"].(map[string]any)
			if groups, _ := props["$groups"].(map[string]any); name == "warehouse_provisioned" && groups["organization"] != "org_42" {
				t.Errorf("warehouse_provisioned with $groups %v, want organization org_42", props["$groups"])
			}
		}
	}
	if !slices.Contains(sent, "warehouse_provisioned") {
		t.Errorf("PostHog received %q, no warehouse_provisioned", sent)
	}
	text, err := h.registryEnv().Describe()
	if err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"Describe": text, "log": contents(t, h.stderr)} {
		if strings.Contains(out, key) {
			t.Errorf("the %s shows the API key:\n%s", what, out)
		}
	}
	for _, want := range []string{"sinks: posthog", "POSTHOG_API_KEY [redacted]", "MULTITRACK_POSTHOG_BATCH_SIZE 10", "MULTITRACK_POSTHOG_INTERVAL 50ms", "POSTHOG_HOST " + srv.URL} {
		if !strings.Contains(lineOf(text, strings.Fields(want)[0]), want) {
			t.Errorf("Describe does not show %q:\n%s", want, text)
		}
	}
}

// The PostHog sink's own settings reach the wire: person profiles off,
// backfill batches, and group properties drawn from the events.
func TestPostHogSettingsFromTheEnvironment(t *testing.T) {
	f := posthogtest.NewServer(t, nil)
	env := map[string]string{
		"POSTHOG_API_KEY":                     "phc_registry_test_key_0002",
		"POSTHOG_HOST":                        f.URL,
		"MULTITRACK_POSTHOG_PERSON_PROFILES":  "Never",
		"MULTITRACK_POSTHOG_HISTORICAL":       "true",
		"MULTITRACK_POSTHOG_GROUP_PROPERTIES": "organization:plan,region",
	}
	lookup := mapLookup(env)
	tr, err := registry.FromLookup(lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	tr.Capture(ctx, tracker.Event{Name: "warehouse_provisioned", Properties: map[string]any{"plan": "pro", "size": "xl"}})
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var identified, captured int
	for _, r := range f.Requests() {
		if !r.Historical {
			t.Error("a batch without historical_migration")
		}
		for _, m := range r.Batch {
			props := m["properties"].(map[string]any)
			switch m["event"] {
			case "$groupidentify":
				identified++
				if set, _ := props["$group_set"].(map[string]any); props["$group_key"] != "org_42" || set["plan"] != "pro" {
					t.Errorf("$groupidentify %v", props)
				}
			case "warehouse_provisioned":
				captured++
				if props["$process_person_profile"] != false {
					t.Errorf("$process_person_profile = %v, want false", props["$process_person_profile"])
				}
			}
		}
	}
	if identified != 1 || captured != 1 {
		t.Errorf("%d $groupidentify, %d events; want 1 and 1", identified, captured)
	}
	text, err := registry.Env{Lookup: lookup}.Describe()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MULTITRACK_POSTHOG_PERSON_PROFILES Never", "MULTITRACK_POSTHOG_HISTORICAL true", "MULTITRACK_POSTHOG_GROUP_PROPERTIES organization:plan,region"} {
		if !strings.Contains(lineOf(text, strings.Fields(want)[0]), want) {
			t.Errorf("Describe does not show %q:\n%s", want, text)
		}
	}
}

func TestPostHogSettingsReportEveryBadValue(t *testing.T) {
	env := map[string]string{
		"POSTHOG_API_KEY":                     "phc_registry_test_key_0003",
		"MULTITRACK_POSTHOG_PERSON_PROFILES":  "sometimes",
		"MULTITRACK_POSTHOG_HISTORICAL":       "perhaps",
		"MULTITRACK_POSTHOG_GROUP_PROPERTIES": "organization",
	}
	_, err := registry.FromLookup(mapLookup(env))
	want := []wantProblem{
		{"MULTITRACK_POSTHOG_PERSON_PROFILES", registry.ErrInvalid, "want always or never"},
		{"MULTITRACK_POSTHOG_HISTORICAL", registry.ErrInvalid, `"perhaps": want true or false`},
		{"MULTITRACK_POSTHOG_GROUP_PROPERTIES", registry.ErrInvalid, "want TYPE:KEY,KEY"},
	}
	got := problems(t, err)
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		checkProblem(t, got[i], w)
	}
}
