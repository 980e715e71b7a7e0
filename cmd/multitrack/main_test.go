package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/multitrack/multitrack/eventline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }}
	code = exitCode(m.Run(context.Background(), args), &errOut)
	return out.String(), errOut.String(), code
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"demo", "--help"}, {"demo", "-h"}} {
		out, _, code := run(t, args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"demo", "-orgs", "0"}, {"demo", "-nope"}, {"demo", "extra"}, {"demo", "-fail-rate", "2"}} {
		_, errOut, code := run(t, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestDemoEmitsEventLinesAndASummary(t *testing.T) {
	out, errOut, code := run(t, "demo", "-duration", "300ms", "-orgs", "2", "-rate", "50", "-fail-rate", "0.5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	counts := map[string]int{}
	orgs := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			Event      string            `json:"event"`
			DistinctID string            `json:"distinct_id"`
			Groups     map[string]string `json:"groups"`
			Properties map[string]any    `json:"properties"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not an event line: %q: %v", line, err)
		}
		counts[e.Event]++
		orgs[e.Groups["organization"]] = true
		if e.DistinctID != e.Groups["organization"] {
			t.Errorf("distinct_id %q, organization %q", e.DistinctID, e.Groups["organization"])
		}
		if _, ok := e.Properties["query_text"]; ok {
			t.Errorf("SQL text sent: %s", line)
		}
		if strings.Contains(line, "SELECT") {
			t.Errorf("SQL text in output: %s", line)
		}
	}
	if counts["warehouse_provisioned"] != 2 || counts["query_initiated"] == 0 || counts["query_failed"] == 0 {
		t.Errorf("event counts = %v", counts)
	}
	if len(orgs) != 2 {
		t.Errorf("organizations = %v", orgs)
	}
	if !strings.Contains(errOut, "summary") || !strings.Contains(errOut, "sink stdout") {
		t.Errorf("summary missing: %q", errOut)
	}
}

func TestDemoReportsEveryConfigurationProblem(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"MULTITRACK_SINKS": "bogus,file", "MULTITRACK_QUEUE_SIZE": "-3", "POSTHOG_API_KEY": "phc_supersecret123"}
	m := &Main{Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	code := exitCode(m.Run(context.Background(), []string{"demo", "-duration", "10ms"}), &errOut)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"MULTITRACK_SINKS", `"bogus"`, "MULTITRACK_QUEUE_SIZE", "MULTITRACK_FILE_PATH"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr %q lacks %q", errOut.String(), want)
		}
	}
	if strings.Contains(errOut.String()+out.String(), "supersecret") {
		t.Error("the API key was printed")
	}
}

func TestDemoThroughTheConfiguredFileSink(t *testing.T) {
	path := t.TempDir() + "/events.jsonl"
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": path, "MULTITRACK_SAMPLE": "query_initiated=0,*=1"}
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	if code := exitCode(m.Run(context.Background(), []string{"demo", "-duration", "200ms", "-rate", "50", "-fail-rate", "1"}), &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if out.Len() != 0 {
		t.Errorf("events on stdout although the file sink is configured: %q", out.String())
	}
	events, warnings, err := eventline.ReadFile(path)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("read %s: %v %v", path, err, warnings)
	}
	names := map[string]int{}
	for _, e := range events {
		names[e.Name]++
	}
	if names["query_initiated"] != 0 || names["query_failed"] == 0 || names["warehouse_provisioned"] != 3 {
		t.Fatalf("events in file = %v", names)
	}
}
