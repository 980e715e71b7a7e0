package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/tracker"
)

// runEnv runs the CLI with the given environment.
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	code = exitCode(m.Run(context.Background(), args), &errOut)
	return out.String(), errOut.String(), code
}

func TestEveryCommandAnswersHelp(t *testing.T) {
	for _, cmd := range []string{"demo", "emit", "config", "replay"} {
		out, _, code := runEnv(t, nil, cmd, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: multitrack "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, code, out)
		}
	}
}

func TestEmit(t *testing.T) {
	out, errOut, code := runEnv(t, map[string]string{"MULTITRACK_STDOUT_FORMAT": "json"}, "emit", "-name", "signed_up", "-org", "org_7", "-p", "plan=pro", "-p", "api_token=hunter2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	e, err := eventline.Parse([]byte(strings.TrimSpace(out)))
	if err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if e.Name != "signed_up" || e.DistinctID != "org_7" || e.Groups["organization"] != "org_7" || e.Properties["plan"] != "pro" || strings.Contains(out, "hunter2") {
		t.Fatalf("emitted %+v", e)
	}

	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no name", nil, []string{"emit"}, 2, "-name is required"},
		{"bad property", nil, []string{"emit", "-name", "x", "-p", "novalue"}, 2, "KEY=VALUE"},
		{"sampled out", map[string]string{"MULTITRACK_SAMPLE": "x=0"}, []string{"emit", "-name", "x"}, 1, "sampled out"},
		{"no sinks", map[string]string{"MULTITRACK_SINKS": "none"}, []string{"emit", "-name", "x"}, 1, "no sinks"},
		{"bad configuration", map[string]string{"MULTITRACK_SINKS": "nope"}, []string{"emit", "-name", "x"}, 1, `unknown sink "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := runEnv(t, c.env, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	out, _, code := runEnv(t, nil, "config")
	if code != 0 || !strings.Contains(out, "sinks: stdout") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, errOut, code := runEnv(t, map[string]string{"MULTITRACK_SINKS": "bogus", "POSTHOG_API_KEY": "phc_verysecret"}, "config")
	if code != 1 || !strings.Contains(out, `unknown sink "bogus"`) || strings.Contains(out+errOut, "verysecret") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "dead.jsonl")
	lines := []string{
		`{"uuid":"0190f3c4-0000-7000-8000-000000000001","event":"query_failed","distinct_id":"org_1","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_1"},"properties":{"$multitrack_sink":"posthog","sqlstate":"42P01"}}`,
		`not json`,
		`{"uuid":"0190f3c4-0000-7000-8000-000000000002","event":"query_initiated","distinct_id":"org_1","timestamp":"2026-11-28T10:15:04Z","properties":{"$multitrack_sink":"file"}}`,
		`{"uuid":"0190f3c4-0000-7000-8000-000000000003","event":"warehouse_provisioned","distinct_id":"org_2","timestamp":"2026-11-28T10:15:05Z","properties":{}}`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out}
	_, errOut, code := runEnv(t, env, "replay", "-q", "-sink", "posthog", in)
	// The bad line is reported with its place, and the rest still replayed.
	if code != 1 || !strings.Contains(errOut, in+":2:") || !strings.Contains(errOut, "replayed 2 events") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	got, warnings, err := eventline.ReadFile(out)
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	// The event for the file sink is filtered out; UUIDs and timestamps are
	// kept; the dead-letter marker is gone.
	if len(got) != 2 || got[0].UUID != "0190f3c4-0000-7000-8000-000000000001" || got[1].UUID != "0190f3c4-0000-7000-8000-000000000003" {
		t.Fatalf("replayed %+v", got)
	}
	if _, ok := got[0].Properties[tracker.PropSink]; ok || got[0].Properties["sqlstate"] != "42P01" || got[0].Timestamp.Nanosecond() != 123456000 {
		t.Fatalf("replayed %+v", got[0])
	}
	if _, errOut, code := runEnv(t, env, "replay", filepath.Join(dir, "missing.jsonl")); code != 1 || !strings.Contains(errOut, "missing.jsonl") {
		t.Fatalf("missing file: exit %d, %q", code, errOut)
	}
}

// Replayed events were sampled when first captured: replay keeps them and
// their $sample_rate as they are, whatever MULTITRACK_SAMPLE says.
func TestReplayDoesNotSampleAgain(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	line := `{"uuid":"0190f3c4-0000-7000-8000-000000000009","event":"q","distinct_id":"d","timestamp":"2026-11-28T10:15:03Z","properties":{"$sample_rate":0.5}}`
	if err := os.WriteFile(in, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	env := map[string]string{"MULTITRACK_SINKS": "file", "MULTITRACK_FILE_PATH": out, "MULTITRACK_SAMPLE": "q=0.0001"}
	if _, errOut, code := runEnv(t, env, "replay", "-q", in); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, _, err := eventline.ReadFile(out)
	if err != nil || len(got) != 1 || got[0].Properties[tracker.PropSampleRate] != 0.5 {
		t.Fatalf("replayed %+v, %v", got, err)
	}
}
