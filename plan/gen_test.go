package plan_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/plan"
)

var update = flag.Bool("update", false, "rewrite the generated code and golden files the tests compare with")

// TestGeneratedCodeIsUpToDate: the generated packages under internal/ are
// compiled and tested with the rest (their tests check that the events they
// build pass their plans); this keeps them equal to what Generate writes
// now. go test ./plan -update rewrites them.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	for _, tc := range []struct{ plan, pkg, file string }{
		{"../testdata/plans/demo.yaml", "demoevents", "internal/demoevents/events.go"},
		{"testdata/gen/every.yaml", "gencheck", "internal/gencheck/events.go"},
	} {
		c, err := plan.Load(tc.plan)
		if err != nil {
			t.Fatal(err)
		}
		got, err := plan.Generate(c.Plan(), tc.pkg)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(tc.file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is not what Generate writes from %s now; run go test ./plan -update (or go generate ./plan/...)", tc.file, tc.plan)
		}
	}
}

func TestGenerateSaysWhatItCannotName(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"event_types_clash", "events: {query-failed: {}, query_failed: {}}",
			`p.yaml:1: events.query_failed.go_name: Go type QueryFailed would name both "query-failed" and event "query_failed": give one a go_name`},
		{"fields_clash", "events: {e: {properties: {trace_id: string, traceId: string}}}",
			`p.yaml:1: events.e.properties.traceId.go_name: Go field TraceID would be both property "trace_id" and property "traceId": give one a go_name`},
		{"field_is_the_method", "events: {e: {properties: {event: string}}}",
			`Go field Event would be both the method Event and property "event"`},
		{"no_letters", "events:\n  \"--\": {}\n",
			`p.yaml:2: events.--.go_name: no Go name can be derived from "--": give the event a go_name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := plan.Parse([]byte(tc.src), "p.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = plan.Generate(c.Plan(), "events")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant …%s…", err, tc.want)
			}
		})
	}
	if _, err := plan.Generate(plan.Plan{}, "not a name"); err == nil {
		t.Error("a package name with a space was accepted")
	}
	bad := plan.Plan{Events: []plan.Event{{Name: "e", Properties: []plan.Property{{Name: "n", Type: "integr"}}}}}
	if _, err := plan.Generate(bad, "events"); err == nil || !strings.Contains(err.Error(), `events.e.properties.n.type: unknown type "integr"`) {
		t.Errorf("a plan with problems: %v", err)
	}
}

func TestGenerateOfAnEmptyPlanCompiles(t *testing.T) {
	src, err := plan.Generate(plan.Plan{}, "events")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), "import") {
		t.Errorf("an empty plan imports what it does not use:\n%s", src)
	}
}
