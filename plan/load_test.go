package plan_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/plan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// problems returns err's problems, failing the test when err is not an
// *plan.Error.
func problems(t *testing.T, err error) []plan.Problem {
	t.Helper()
	var pe *plan.Error
	if !errors.As(err, &pe) {
		t.Fatalf("want a *plan.Error, got %T: %v", err, err)
	}
	return pe.Problems
}

// wantProblem is an expected problem: its line, field and a part of its
// message.
type wantProblem struct {
	line  int
	field string
	msg   string
}

func checkProblems(t *testing.T, got []plan.Problem, file string, want []wantProblem) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing problem %d: %+v", i, want[i])
		case i >= len(want):
			t.Errorf("unexpected problem: %s", got[i])
		case got[i].File != file || got[i].Line != want[i].line || got[i].Field != want[i].field || !strings.Contains(got[i].Msg, want[i].msg):
			t.Errorf("problem %d:\n got %s\nwant %s:%d: %s: …%s…", i, got[i], file, want[i].line, want[i].field, want[i].msg)
		}
	}
}

func TestLoadReportsEveryProblemWithFileLineAndField(t *testing.T) {
	const file = "testdata/load/bad.yaml"
	_, err := plan.Load(file)
	checkProblems(t, problems(t, err), file, []wantProblem{
		{2, "common.service.type", `unknown type "strng" (did you mean "string"?)`},
		{5, "events.query_failed", `unknown field "descripton" (did you mean "description"?)`},
		{9, "events.query_failed.properties.sqlstate.pattern", "not a valid regular expression: missing closing ]: `[0-9A-Z`"},
		{10, "events.query_failed.properties.duration_ms.max", "max 5 is below min 10"},
		{11, "events.query_failed.properties.category.enum", "empty enum"},
		{12, "events.query_failed.properties.flag.enum", "string or an integer property only"},
		{13, "events.query_failed.properties.rows.enum", `"two" is not an integer`},
		{14, "events.query_failed.properties.kind.enum", `"a" is listed twice`},
		{15, "events.query_failed.properties.size.required", "want true or false, got a string"},
		{16, "events.query_failed.properties.count.min", "want a number, got a string"},
		{17, "events.query_failed.properties.tags.min", "whole number"},
		{18, "events.query_failed.properties.note.enum", `"NO" does not match the pattern`},
		{19, "events.query_failed.properties.user.type", "a type is required"},
		{20, "events.query_failed.properties.go.go_name", `"lower" is not an exported Go identifier`},
		{21, "events.query_failed.properties", `"sqlstate" is given twice (first on line 7)`},
		{22, "events", `"query_failed" is given twice (first on line 4)`},
		{23, "events[1].name", "event name is empty"},
		{25, "events.ok_event.allow_unknown_properties", "want true or false"},
		{26, "events.ok_event.properties", "want a mapping, got a list"},
	})
}

func TestLoadReadsJSONWithLines(t *testing.T) {
	c, err := plan.Load("testdata/load/good.json")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Plan()
	if len(p.Events) != 2 || p.Events[0].Name != "query_failed" || !p.Events[1].AllowUnknown {
		t.Fatalf("events: %+v", p.Events)
	}
	sq := p.Events[0].Properties[0]
	if sq.Name != "sqlstate" || sq.Type != plan.String || !sq.Required || sq.Pattern != "[0-9A-Z]{5}" || sq.GoName != "SQLState" {
		t.Errorf("sqlstate: %+v", sq)
	}
	if d := p.Events[0].Properties[1]; *d.Min != 0 || *d.Max != 86400000 {
		t.Errorf("duration_ms bounds: %v %v", *d.Min, *d.Max)
	}

	const file = "testdata/load/bad.json"
	_, err = plan.Load(file)
	checkProblems(t, problems(t, err), file, []wantProblem{
		{5, "events.query_failed.properties.sqlstate", `unknown field "requried" (did you mean "required"?)`},
		{6, "events.query_failed.properties.duration_ms.type", `unknown type "integr" (did you mean "integer"?)`},
	})
}

func TestParseProblemsOfTheFileAsAWhole(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      wantProblem
	}{
		{"empty", "", wantProblem{0, "", "the file is empty"}},
		{"comment_only", "# nothing\n", wantProblem{0, "", "the file is empty"}},
		{"syntax", "events:\n  a: b\n    c: d\n", wantProblem{3, "", "syntax: mapping values are not allowed"}},
		{"list", "- a\n", wantProblem{1, "", "want a mapping, got a list"}},
		{"top_level_typo", "event: {}\n", wantProblem{1, "", `unknown field "event" (did you mean "events"?)`}},
		{"events_scalar", "events: 3\n", wantProblem{1, "events", "want a mapping, got a number"}},
		{"key_not_string", "events:\n  [a]: {}\n", wantProblem{2, "events", "a key must be a string, got a list"}},
		{"control_in_name", "events:\n  \"a\\tb\": {}\n", wantProblem{2, `events."a\tb".name`, "event name has a control character"}},
		{"enum_null", "events:\n  a:\n    properties:\n      b:\n        type: string\n        enum:\n          - x\n          - ~\n", wantProblem{8, "events.a.properties.b.enum", "want each value a string or a number, got nothing (null)"}},
		{"min_infinite", "events: {a: {properties: {b: {type: number, min: .inf}}}}\n", wantProblem{1, "events.a.properties.b.min", "want a finite number"}},
		{"pattern_on_integer", "events: {a: {properties: {b: {type: integer, pattern: x}}}}\n", wantProblem{1, "events.a.properties.b.pattern", "string property only"}},
		{"bounds_on_boolean", "events: {a: {properties: {b: {type: boolean, max: 1}}}}\n", wantProblem{1, "events.a.properties.b.max", "min and max apply to"}},
		{"enum_out_of_range", "events: {a: {properties: {b: {type: integer, min: 0, enum: [1, -1]}}}}\n", wantProblem{1, "events.a.properties.b.enum", "-1 is outside min and max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan.Parse([]byte(tc.src), "p.yaml")
			checkProblems(t, problems(t, err), "p.yaml", []wantProblem{tc.want})
		})
	}
}

func TestParseFollowsAliases(t *testing.T) {
	src := `
common:
  user: &user {type: string, required: true}
events:
  a: {properties: {who: *user}}
  b: {properties: {who: *user, n: integer}}
`
	c, err := plan.Parse([]byte(src), "aliases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range c.Plan().Events {
		if p := ev.Properties[0]; p.Name != "who" || p.Type != plan.String || !p.Required {
			t.Errorf("%s: %+v", ev.Name, p)
		}
	}
}

// An alias bomb: 200 events that each refer to one event of 200
// properties that each refer to one enum of 200 values, 8 million nodes
// from a few kilobytes. Decoding stops at a budget instead.
func TestParseRefusesAnAliasBomb(t *testing.T) {
	list := func(prefix string, n int, first, rest string) string {
		var b strings.Builder
		for i := range n {
			v := rest
			if i == 0 {
				v = first
			}
			fmt.Fprintf(&b, "%s%d: %s, ", prefix, i, v)
		}
		return strings.TrimSuffix(b.String(), ", ")
	}
	var values []string
	for i := range 200 {
		values = append(values, fmt.Sprint("v", i))
	}
	prop := "&p {type: string, enum: [" + strings.Join(values, ", ") + "]}"
	event := "&e {properties: {" + list("p", 200, prop, "*p") + "}}"
	src := "events: {" + list("e", 200, event, "*e") + "}\n"
	if len(src) > 8000 {
		t.Fatalf("the bomb is %d bytes", len(src))
	}
	_, err := plan.Parse([]byte(src), "bomb.yaml")
	got := problems(t, err)
	if len(got) != 1 || got[0].File != "bomb.yaml" || !strings.Contains(got[0].Msg, "the plan is too large") {
		t.Fatalf("want one problem, the plan is too large; got %v", err)
	}
}

func TestCompileNamesTheFieldsOfAGoPlan(t *testing.T) {
	_, err := plan.Compile(plan.Plan{Events: []plan.Event{
		{Name: "a", Properties: []plan.Property{{Name: "x", Type: "text"}, {Name: "", Type: plan.String}}},
		{Name: "a"},
		{Name: "b", GoName: "b", Properties: []plan.Property{{Name: "n", Type: plan.Number, Min: new(1.0), Max: new(0.0)}}},
	}})
	checkProblems(t, problems(t, err), "", []wantProblem{
		{0, "events.a.properties.x.type", `unknown type "text"`},
		{0, "events.a.properties[1].name", "property name is empty"},
		{0, "events.a", `event "a" is planned twice`},
		{0, "events.b.go_name", `"b" is not an exported Go identifier`},
		{0, "events.b.properties.n.max", "max 0 is below min 1"},
	})
}

func TestErrorShowsTwentyProblemsAndCountsTheRest(t *testing.T) {
	var src strings.Builder
	src.WriteString("events:\n  e:\n    properties:\n")
	for i := range 25 {
		fmt.Fprintf(&src, "      p%d: {type: nope}\n", i)
	}
	_, err := plan.Parse([]byte(src.String()), "many.yaml")
	if n := len(problems(t, err)); n != 25 {
		t.Fatalf("%d problems, want 25", n)
	}
	text := err.Error()
	if !strings.HasPrefix(text, "tracking plan: 25 problems\n") || strings.Count(text, "many.yaml:") != 20 || !strings.HasSuffix(text, "and 5 more") {
		t.Errorf("error text:\n%s", text)
	}
}

func TestCheckerKeepsItsOwnCopyOfThePlan(t *testing.T) {
	p := plan.Plan{Events: []plan.Event{{Name: "a", Properties: []plan.Property{
		{Name: "kind", Type: plan.String, Enum: []string{"x"}, Max: new(3.0)},
	}}}}
	c, err := plan.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Events[0].Name = "b"
	p.Events[0].Properties[0].Enum[0] = "y"
	*p.Events[0].Properties[0].Max = 0
	got := c.Plan()
	if got.Events[0].Name != "a" || got.Events[0].Properties[0].Enum[0] != "x" || *got.Events[0].Properties[0].Max != 3 {
		t.Errorf("the checker's plan changed with the caller's: %+v", got.Events[0])
	}
	got.Events[0].Name = "c"
	if !c.Planned("a") || c.Plan().Events[0].Name != "a" {
		t.Error("changing Plan()'s result changed the checker")
	}
}

func TestLoadOfAMissingFileSaysSo(t *testing.T) {
	_, err := plan.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want ErrNotExist, got %v", err)
	}
}

func TestTheDemoPlanLoads(t *testing.T) {
	c, err := plan.Load("../testdata/plans/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"warehouse_provisioned", "warehouse_deprovisioned", "warehouse_password_reset", "query_initiated", "query_failed"} {
		if !c.Planned(name) {
			t.Errorf("%s is not planned", name)
		}
	}
}
