package plan_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/tracker"
)

// testPlan has a property of every type and every kind of constraint.
var testPlan = plan.Plan{
	Common: []plan.Property{{Name: "service", Type: plan.String}},
	Events: []plan.Event{
		{Name: "query_failed", Properties: []plan.Property{
			{Name: "sqlstate", Type: plan.String, Required: true, Pattern: "[0-9A-Z]{5}"},
			{Name: "category", Type: plan.String, Enum: []string{"undefined_table", "syntax_error"}},
			{Name: "duration_ms", Type: plan.Integer, Min: new(0.0), Max: new(1000.0)},
			{Name: "priority", Type: plan.Integer, Enum: []string{"1", "2", "3"}},
			{Name: "ratio", Type: plan.Number, Min: new(0.0), Max: new(1.0)},
			{Name: "cached", Type: plan.Boolean},
			{Name: "at", Type: plan.Timestamp},
			{Name: "labels", Type: plan.Object},
			{Name: "tags", Type: plan.Array, Max: new(2.0)},
			{Name: "note", Type: plan.String, Min: new(2.0), Max: new(4.0)},
		}},
		{Name: "page_viewed", AllowUnknown: true, Properties: []plan.Property{{Name: "path", Type: plan.String, Required: true}}},
	},
}

func compileTestPlan(t testing.TB) *plan.Checker {
	t.Helper()
	c, err := plan.Compile(testPlan)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func failed(props map[string]any) tracker.Event {
	p := map[string]any{"sqlstate": "42P01"}
	for k, v := range props {
		if v == absent {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return tracker.Event{Name: "query_failed", Properties: p}
}

// absent marks a property removed from failed's event.
var absent any = new(struct{ absent bool })

func TestCheckFindsEveryKindOfViolation(t *testing.T) {
	c := compileTestPlan(t)
	for _, tc := range []struct {
		name  string
		event tracker.Event
		kind  plan.Kind // 0: no violation
		want  string
	}{
		{"valid", failed(map[string]any{"category": "syntax_error", "duration_ms": 12, "ratio": 0.5, "service": "api"}), 0, ""},
		{"unplanned", tracker.Event{Name: "query_faild", Properties: map[string]any{"x": 1}}, plan.KindUnplanned, `event is not in the plan (did you mean "query_failed"?)`},
		{"unplanned_far", tracker.Event{Name: "signed_up"}, plan.KindUnplanned, "event is not in the plan"},
		{"missing_required", failed(map[string]any{"sqlstate": absent}), plan.KindMissingRequired, `property "sqlstate" is required but missing`},
		{"wrong_type_string", failed(map[string]any{"sqlstate": 42}), plan.KindWrongType, `property "sqlstate" is an integer, want string`},
		{"wrong_type_integer", failed(map[string]any{"duration_ms": 1.5}), plan.KindWrongType, `property "duration_ms" is a number with a fractional part, want integer`},
		{"wrong_type_number", failed(map[string]any{"ratio": "half"}), plan.KindWrongType, `property "ratio" is a string, want number`},
		{"wrong_type_boolean", failed(map[string]any{"cached": "yes"}), plan.KindWrongType, `property "cached" is a string, want boolean`},
		{"wrong_type_timestamp", failed(map[string]any{"at": "yesterday"}), plan.KindWrongType, `property "at" is a string that is not an RFC 3339 timestamp`},
		{"wrong_type_object", failed(map[string]any{"labels": []any{}}), plan.KindWrongType, `property "labels" is an array, want object`},
		{"wrong_type_array", failed(map[string]any{"tags": map[string]any{}}), plan.KindWrongType, `property "tags" is an object, want array`},
		{"wrong_type_null", failed(map[string]any{"category": nil}), plan.KindWrongType, `property "category" is null, want string`},
		{"wrong_type_marshaled_null", failed(map[string]any{"category": json.RawMessage("null")}), plan.KindWrongType, `property "category" is null, want string`},
		{"wrong_type_common", failed(map[string]any{"service": 7}), plan.KindWrongType, `property "service" is an integer, want string`},
		{"not_in_enum", failed(map[string]any{"category": "disk_full"}), plan.KindNotInEnum, `property "category" is not one of undefined_table, syntax_error`},
		{"not_in_integer_enum", failed(map[string]any{"priority": 4}), plan.KindNotInEnum, `property "priority" is not one of 1, 2, 3`},
		{"pattern", failed(map[string]any{"sqlstate": "42p01"}), plan.KindPattern, `property "sqlstate" does not match the pattern [0-9A-Z]{5}`},
		{"range_below", failed(map[string]any{"duration_ms": -1}), plan.KindRange, `property "duration_ms" is below the minimum 0`},
		{"range_above", failed(map[string]any{"ratio": 1.5}), plan.KindRange, `property "ratio" is above the maximum 1`},
		{"range_string", failed(map[string]any{"note": "a"}), plan.KindRange, `property "note" is shorter than 2 characters`},
		{"range_string_runes", failed(map[string]any{"note": "ééééé"}), plan.KindRange, `property "note" is longer than 4 characters`},
		{"range_array", failed(map[string]any{"tags": []string{"a", "b", "c"}}), plan.KindRange, `property "tags" has more than 2 elements`},
		{"unknown_property", failed(map[string]any{"sql_state": "42P01"}), plan.KindUnknownProperty, `property "sql_state" is not in the plan for this event`},
		{"unknown_allowed", tracker.Event{Name: "page_viewed", Properties: map[string]any{"path": "/", "referrer": "x"}}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := c.Check(tc.event.Name, tc.event.Properties, nil)
			vs := c.Violations(tc.event.Name, tc.event.Properties, nil)
			if tc.kind == 0 {
				if n.Total() != 0 || len(vs) != 0 {
					t.Fatalf("want no violation, got %+v %v", n, vs)
				}
				return
			}
			if n.Total() != 1 || tc.kind.Count(n) != 1 {
				t.Errorf("Check: %+v, want one %s", n, tc.kind)
			}
			if len(vs) != 1 || vs[0].Kind != tc.kind || vs[0].Event != tc.event.Name || vs[0].String() != tc.want {
				t.Errorf("Violations: %+v\nwant %s: %s", vs, tc.kind, tc.want)
			}
		})
	}
}

func TestViolationsComeInPlanOrderThenUnknownByName(t *testing.T) {
	c := compileTestPlan(t)
	e := failed(map[string]any{"sqlstate": absent, "tags": 1, "zeta": 1, "category": "x", "alpha": 2})
	var got []string
	for _, v := range c.Violations(e.Name, e.Properties, nil) {
		got = append(got, v.Kind.String()+" "+v.Property)
	}
	want := []string{"missing required sqlstate", "not in enum category", "wrong type tags", "unknown property alpha", "unknown property zeta"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	n := c.Check(e.Name, e.Properties, nil)
	if n.MissingRequired != 1 || n.NotInEnum != 1 || n.WrongType != 1 || n.UnknownProperty != 2 || n.Total() != 5 {
		t.Errorf("counts %+v", n)
	}
}

func TestTrackerPropertiesAndExemptOnesAreNotJudged(t *testing.T) {
	c := compileTestPlan(t)
	e := failed(map[string]any{tracker.PropSampleRate: 0.1, tracker.PropSink: "posthog", "region": "eu"})
	if n := c.Check(e.Name, e.Properties, nil); n.UnknownProperty != 1 || n.Total() != 1 {
		t.Fatalf("without exempt: %+v, want region unknown only", n)
	}
	exempt := func(k string) bool { return k == "region" || k == "sqlstate" }
	if n := c.Check(e.Name, e.Properties, exempt); n.Total() != 0 {
		t.Errorf("with region exempt: %+v", n)
	}
	// An exempt required property may be absent: the tracker adds it.
	if n := c.Check("query_failed", failed(map[string]any{"sqlstate": absent}).Properties, exempt); n.Total() != 0 {
		t.Errorf("exempt required property absent: %+v", n)
	}
	// An unplanned event is one violation, whatever its properties.
	if n := c.Check("other", map[string]any{"a": 1, "b": 2}, nil); n.Unplanned != 1 || n.Total() != 1 {
		t.Errorf("unplanned: %+v", n)
	}
}

func TestAllowsSaysWhatStripKeeps(t *testing.T) {
	c := compileTestPlan(t)
	for _, tc := range []struct {
		event, key string
		want       bool
	}{
		{"query_failed", "sqlstate", true},
		{"query_failed", "service", true}, // common
		{"query_failed", "sql_state", false},
		{"query_failed", tracker.PropSampleRate, true},
		{"page_viewed", "anything", true}, // unknown properties allowed
		{"unplanned", "sqlstate", false},
		{"unplanned", tracker.PropSampleRate, true},
	} {
		if got := c.Allows(tc.event, tc.key); got != tc.want {
			t.Errorf("Allows(%q, %q) = %v", tc.event, tc.key, got)
		}
	}
}

func TestANilCheckerHasNoPlan(t *testing.T) {
	var c *plan.Checker
	if n := c.Check("x", nil, nil); n.Total() != 0 || c.Violations("x", nil, nil) != nil {
		t.Error("a nil checker found violations")
	}
	if c.Planned("x") || c.Allows("x", "y") || len(c.Plan().Events) != 0 {
		t.Error("a nil checker has a plan")
	}
}

// stringer encodes as a JSON string through MarshalText.
type stringer struct{}

func (stringer) MarshalText() ([]byte, error) { return []byte("42P01"), nil }

// rawJSON encodes as its own text through MarshalJSON.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// panicky cannot be encoded: its MarshalText panics.
type panicky struct{}

func (panicky) MarshalText() ([]byte, error) { panic("no text") }

type category string

type point struct{ X, Y int }

// TestValuesAreJudgedAsTheirJSON: what counts is the JSON a value encodes
// as, for every Go type the tracker accepts.
func TestValuesAreJudgedAsTheirJSON(t *testing.T) {
	c := compileTestPlan(t)
	now := time.Now()
	for _, tc := range []struct {
		prop string
		ok   []any
		bad  []any
	}{
		{"sqlstate", []any{"42P01", category("42P01"), stringer{}, &stringer{}, rawJSON(`"42P01"`)}, []any{42, true, nil, []string{"42P01"}, (*stringer)(nil), (*rawJSON)(nil), panicky{}, rawJSON(`42`)}},
		{"note", []any{[]byte("abc")}, []any{[]byte("abcdef")}}, // base64: YWJj, YWJjZGVm
		{"duration_ms", []any{0, int8(1), int16(2), int32(3), int64(4), uint(5), uint8(6), uint16(7), uint32(8), uint64(9), 10.0, float32(11), json.Number("12"), json.Number("1e2")}, []any{1.5, json.Number("1.5"), "1", uint64(1 << 63), 1e300}},
		{"ratio", []any{0, 0.5, float32(0.25), json.Number("0.75"), json.Number("1")}, []any{"0.5", true}},
		{"cached", []any{true, false}, []any{0, "true"}},
		{"at", []any{now, &now, "2026-11-28T10:15:03Z", "2026-11-28T10:15:03.123456+01:00"}, []any{now.Unix(), "2026-11-28", "10:15"}},
		{"labels", []any{map[string]any{}, map[string]string{"a": "b"}, map[string]int{"a": 1}, point{1, 2}, &point{}}, []any{[]any{}, "x", (*point)(nil)}},
		{"tags", []any{[]any{}, []string{"a"}, []int{1, 2}, [2]string{"a", "b"}, rawJSON(`[1, 2]`)}, []any{"a", map[string]any{}, []byte("a"), rawJSON(`{}`)}},
		{"priority", []any{1, int64(2), 3.0, json.Number("3"), rawJSON(`2`)}, []any{0, 2.5, "1", rawJSON(`2.5`), rawJSON(`"2"`)}},
	} {
		for _, v := range tc.ok {
			if n := c.Check("query_failed", failed(map[string]any{tc.prop: v}).Properties, nil); n.Total() != 0 {
				t.Errorf("%s = %#v (%T): %v", tc.prop, v, v, c.Violations("query_failed", failed(map[string]any{tc.prop: v}).Properties, nil))
			}
		}
		for _, v := range tc.bad {
			if n := c.Check("query_failed", failed(map[string]any{tc.prop: v}).Properties, nil); n.Total() != 1 {
				t.Errorf("%s = %#v (%T): want a violation, got %+v", tc.prop, v, v, n)
			}
		}
	}
}

// TestViolationsNeverHoldTheValue: violations are logged and printed;
// property values may be personal data.
func TestViolationsNeverHoldTheValue(t *testing.T) {
	c := compileTestPlan(t)
	const secret = "hunter2-personal"
	e := failed(map[string]any{
		"sqlstate": secret, "category": secret, "duration_ms": secret, "note": secret + secret,
		"at": secret, "labels": secret, "tags": []any{secret, secret, secret},
	})
	vs := c.Violations(e.Name, e.Properties, nil)
	if len(vs) != 7 {
		t.Fatalf("want 7 violations, got %v", vs)
	}
	for _, v := range vs {
		if strings.Contains(v.String(), "hunter2") {
			t.Errorf("a violation shows the value: %s", v)
		}
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	c := compileTestPlan(t)
	valid := failed(map[string]any{"category": "syntax_error", "duration_ms": 12, "ratio": 0.5, "at": time.Now(), "tags": []any{1}})
	invalid := failed(map[string]any{"sqlstate": "x", "category": "y", "duration_ms": -1, "extra": 1})
	for name, e := range map[string]tracker.Event{"valid": valid, "invalid": invalid} {
		if allocs := testing.AllocsPerRun(100, func() { c.Check(e.Name, e.Properties, nil) }); allocs != 0 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
	}
}

func TestKindsNameAndCount(t *testing.T) {
	n := tracker.PlanStats{Unplanned: 1, MissingRequired: 2, WrongType: 3, NotInEnum: 4, Pattern: 5, Range: 6, UnknownProperty: 7}
	var names []string
	for i, k := range plan.Kinds {
		if got := k.Count(n); got != uint64(i+1) {
			t.Errorf("%s: count %d, want %d", k, got, i+1)
		}
		names = append(names, k.String())
	}
	want := []string{"unplanned event", "missing required", "wrong type", "not in enum", "pattern", "range", "unknown property"}
	if !slices.Equal(names, want) {
		t.Errorf("names %q", names)
	}
	if plan.Kind(0).Count(n) != 0 || plan.Kind(0).String() != "Kind(0)" {
		t.Error("the zero Kind counts or has a name")
	}
}

func TestExplainNamesTheFirstViolation(t *testing.T) {
	c := compileTestPlan(t)
	prop, problem := c.Explain("query_failed", failed(map[string]any{"category": "x", "zzz": 1}).Properties, nil)
	if prop != "category" || problem != `property "category" is not one of undefined_table, syntax_error` {
		t.Errorf("Explain: %q, %q", prop, problem)
	}
	if prop, problem := c.Explain("other", nil, nil); prop != "" || problem != "event is not in the plan" {
		t.Errorf("unplanned: %q, %q", prop, problem)
	}
	if prop, problem := c.Explain("query_failed", failed(nil).Properties, nil); prop != "" || problem != "" {
		t.Errorf("valid: %q, %q", prop, problem)
	}
}
