package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const demoPlan = "../../testdata/plans/demo.yaml"

// runStdin runs the CLI with the given environment and standard input.
func runStdin(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	code = exitCode(m.Run(context.Background(), args), &errOut)
	return out.String(), errOut.String(), code
}

func TestPlanCommandsAnswerHelp(t *testing.T) {
	for _, cmd := range []string{"lint", "gen"} {
		out, _, code := runStdin(t, nil, "", cmd, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: multitrack "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, code, out)
		}
	}
}

func TestLintExitsOneOnViolationsAndNamesEachLine(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	lines := `{"uuid":"u1","event":"query_failed","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z","properties":{"user":"a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","sqlstate":"42P01","error_category":"disk_full"}}
{"uuid":"u2","event":"query_failed","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z","properties":{"user":"a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","sqlstate":"42P01","error_category":"full_disk","customer_email":"a@example.com"}}
`
	if err := os.WriteFile(events, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runStdin(t, nil, "", "lint", "--plan", demoPlan, events)
	want := events + `:2: query_failed: property "error_category" is not one of undefined_table, syntax_error, query_canceled, disk_full
` + events + `:2: query_failed: property "customer_email" is not in the plan for this event
`
	if code != 1 || out != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
	if !strings.Contains(errOut, "2 events, 2 violations (1 not in enum, 1 unknown property) in 1 file") || strings.Contains(out+errOut, "example.com") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestLintReadsStdinAndSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	line := `{"uuid":"u1","event":"warehouse_deprovisioned","distinct_id":"o","timestamp":"2026-11-28T10:15:03Z","properties":{"warehouse":"w"}}` + "\n"
	if err := os.WriteFile(good, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runStdin(t, nil, "\n"+strings.Replace(line, "warehouse_deprovisioned", "warehouse_deleted", 1), "lint", "--plan", demoPlan, good, "-")
	if code != 1 || !strings.HasPrefix(out, "stdin:2: warehouse_deleted: event is not in the plan") || !strings.Contains(errOut, "2 events, 1 violation (1 unplanned event) in 2 files") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestLintExitsTwoOnABadPlanWithEveryProblem(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(bad, []byte("events:\n  a:\n    properties:\n      n: {type: integr}\n      m: {type: string, requird: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runStdin(t, nil, "", "lint", "--plan", bad, "-")
	if code != 2 || !strings.Contains(errOut, bad+`:4: events.a.properties.n.type: unknown type "integr"`) || !strings.Contains(errOut, bad+`:5: events.a.properties.m: unknown field "requird"`) {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestLintUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"lint"}, {"lint", "x.jsonl"}, {"lint", "--plan", demoPlan}, {"lint", "--nope"}} {
		if _, errOut, code := runStdin(t, nil, "", args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	_, errOut, code := runStdin(t, nil, "", "lint", "--plan", demoPlan, filepath.Join(t.TempDir(), "missing.jsonl"))
	if code != 1 || !strings.Contains(errOut, "missing.jsonl") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}

// TestDemoOutputPassesTheDemoPlan: what `multitrack demo` sends, sampled
// ($sample_rate added) and with its default property, follows
// testdata/plans/demo.yaml.
func TestDemoOutputPassesTheDemoPlan(t *testing.T) {
	env := map[string]string{"MULTITRACK_STDOUT_FORMAT": "json", "MULTITRACK_SAMPLE": "query_initiated=0.5,*=1"}
	events, errOut, code := runStdin(t, env, "", "demo", "-duration", "400ms", "-orgs", "3", "-rate", "60", "-fail-rate", "0.5")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	for _, name := range []string{"warehouse_provisioned", "query_initiated", "query_failed", "$sample_rate"} {
		if !strings.Contains(events, name) {
			t.Fatalf("the demo's output has no %s:\n%s", name, events)
		}
	}
	out, errOut, code := runStdin(t, nil, events, "lint", "--plan", demoPlan, "-")
	if code != 0 || out != "" || !strings.Contains(errOut, " 0 violations") {
		t.Errorf("lint: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// TestDemoFollowsTheDemoPlanInProcess: the demo enforcing its own plan in
// drop mode rejects nothing; enforcing a plan without query_initiated, it
// rejects those and says so.
func TestDemoFollowsTheDemoPlanInProcess(t *testing.T) {
	env := map[string]string{"MULTITRACK_SINKS": "noop", "MULTITRACK_PLAN_PATH": demoPlan, "MULTITRACK_PLAN_MODE": "drop"}
	args := []string{"demo", "-duration", "300ms", "-orgs", "2", "-rate", "50", "-fail-rate", "0.5"}
	_, errOut, code := runStdin(t, env, "", args...)
	if code != 0 || !strings.Contains(errOut, "rejected 0") || strings.Contains(errOut, "violations") {
		t.Errorf("demo plan: exit %d, stderr:\n%s", code, errOut)
	}

	other := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(other, []byte("common: {service: string}\nevents:\n  warehouse_provisioned: {allow_unknown_properties: true}\n  query_failed: {allow_unknown_properties: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["MULTITRACK_PLAN_PATH"] = other
	_, errOut, code = runStdin(t, env, "", args...)
	if code != 0 || !regexp.MustCompile(`\nplan +violations [1-9]`).MatchString(errOut) || strings.Contains(errOut, "rejected 0") {
		t.Errorf("a plan without query_initiated: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestGenWritesTheCommittedDemoPackage(t *testing.T) {
	want, err := os.ReadFile("../../plan/internal/demoevents/events.go")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runStdin(t, nil, "", "gen", "--plan", demoPlan, "--package", "demoevents")
	if code != 0 || out != string(want) {
		t.Fatalf("exit %d, stderr %s; stdout differs from plan/internal/demoevents/events.go:\n%s", code, errOut, out)
	}
	file := filepath.Join(t.TempDir(), "events.go")
	if _, errOut, code := runStdin(t, nil, "", "gen", "--plan", demoPlan, "--package", "demoevents", "-o", file); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, errOut)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != string(want) {
		t.Errorf("-o wrote something else (%v)", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("gen left files behind: %v", entries)
	}
}

func TestGenUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(bad, []byte("events: {a: {properties: {n: {type: integr}}}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"gen"}, {"gen", "--plan", demoPlan}, {"gen", "--package", "x"}, {"gen", "--plan", bad, "--package", "x"}, {"gen", "--plan", demoPlan, "--package", "not-a-name"}} {
		if _, errOut, code := runStdin(t, nil, "", args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
