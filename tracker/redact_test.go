package tracker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestRedactionCopiesOnWrite(t *testing.T) {
	tr, rec := trackertest.NewTracker(t, tracker.WithProperties(map[string]any{"service": "api"}))
	props := map[string]any{"user": "alice", "db_password": "hunter2", "raw_sql": "SELECT 1", "sqlstate": "42P01", "apiKey": "k"}
	tr.Capture(context.Background(), tracker.Event{Name: "query_failed", Properties: props})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0].Properties
	for _, k := range []string{"db_password", "raw_sql", "apiKey"} {
		if _, ok := got[k]; ok {
			t.Errorf("secret key %q was sent", k)
		}
	}
	if got["user"] != "alice" || got["sqlstate"] != "42P01" || got["service"] != "api" {
		t.Errorf("properties = %v", got)
	}
	if len(props) != 5 || props["db_password"] != "hunter2" {
		t.Errorf("caller's map modified: %v", props)
	}
	if s := tr.Stats(); s.Redacted != 3 {
		t.Errorf("Redacted = %d, want 3", s.Redacted)
	}
}

// Plural and digit-suffixed secret keys are redacted, in nested maps too.
func TestPluralsDigitsAndNestedMapsAreRedacted(t *testing.T) {
	props := map[string]any{"user": "alice"}
	for _, k := range []string{"password2", "passwords", "secrets", "tokens", "apiKeys", "api_keys", "dbPassword1", "cookies"} {
		props[k] = "hunter2"
	}
	props["db"] = map[string]any{"password": "hunter2", "host": "h"}
	props["conn"] = map[string]string{"dsn": "postgres://u:pw@h", "pool": "4"}
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: props})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(evs[0].Properties)
	if strings.Contains(got, "hunter2") || strings.Contains(got, "postgres") || !strings.Contains(got, "alice") ||
		!strings.Contains(got, "host:h") || !strings.Contains(got, "pool:4") {
		t.Fatalf("delivered %s", got)
	}
	if s := tr.Stats(); s.Redacted != 10 {
		t.Fatalf("Redacted = %d, want 10", s.Redacted)
	}
}

// Secrets nested in typed containers and structs are removed too, and
// redaction visits each value once: 30 levels of nesting (2^30 visits when
// it did not) are redacted at once.
func TestSecretsInTypedContainersAndStructsAreRedacted(t *testing.T) {
	type creds struct {
		User     string
		Password string `json:"password"`
		Note     string `json:"-"`
	}
	deep := map[string]any{"password": "hunter2"}
	for i := 0; i < 30; i++ {
		deep = map[string]any{"a": deep}
	}
	tr, rec := trackertest.NewTracker(t)
	tr.Capture(context.Background(), tracker.Event{Name: "e", Properties: map[string]any{
		"list":    []map[string]any{{"password": "hunter2", "ok": 1}},
		"headers": map[string]map[string]string{"h": {"Authorization": "hunter2", "Accept": "json"}},
		"creds":   creds{User: "u", Password: "hunter2"},
		"deep":    deep,
		"token":   map[string]any{"password": "x", "api_key": "y"}, // one secret key, its contents go with it
	}})
	evs, err := rec.WaitFor(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	if line, err = eventline.Append(nil, &evs[0]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(line), "hunter2") || !strings.Contains(string(line), `"Accept":"json"`) || !strings.Contains(string(line), `"User":"u"`) {
		t.Fatalf("event line %s", line)
	}
	if s := tr.Stats(); s.Redacted != 5 {
		t.Fatalf("Redacted = %d, want 5 (list, headers, creds, deep, token)", s.Redacted)
	}
}
