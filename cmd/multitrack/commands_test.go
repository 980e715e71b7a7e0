package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
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
	for _, cmd := range []string{"demo", "emit", "config", "replay", "relay", "version"} {
		out, _, code := runEnv(t, nil, cmd, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: multitrack "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, code, out)
		}
		// help CMD is CMD --help.
		if help, _, code := runEnv(t, nil, "help", cmd); code != 0 || help != out {
			t.Errorf("help %s: exit %d, stdout %q; want %s --help's", cmd, code, help, cmd)
		}
	}
	if _, errOut, code := runEnv(t, nil, "help", "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, stderr %q", code, errOut)
	}
}

func TestVersionComesFromTheBuildInformation(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"main module", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "v1.2.0"}, Settings: rev},
			"multitrack v1.2.0 (go1.26.8, commit 0123456789ab, modified)\n"},
		{"dependency", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/app", Version: "(devel)"}, Deps: []*debug.Module{{Path: modulePath, Version: "v1.3.1"}}},
			"multitrack v1.3.1 (go1.26.8)\n"},
		{"local build", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"}},
			"multitrack (devel) (go1.26.8)\n"},
		{"no build information", nil, "multitrack (unknown version: built without module support)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errOut, readBuildInfo: func() (*debug.BuildInfo, bool) { return c.bi, c.bi != nil }}
			if code := exitCode(m.Run(context.Background(), []string{"version"}), &errOut); code != 0 || out.String() != c.want {
				t.Errorf("exit %d, stdout %q, want %q", code, out.String(), c.want)
			}
		})
	}
	// The real build information names this module.
	if out, _, code := runEnv(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "multitrack ") || strings.Contains(out, "unknown") {
		t.Errorf("version: exit %d, %q", code, out)
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
		// A malformed property is not echoed: its value may be a secret.
		{"property not echoed", nil, []string{"emit", "-name", "x", "-p", "password:hunter2"}, 2, "emit: -p: want KEY=VALUE (no '=' in the argument)"},
		{"bad JSON", nil, []string{"emit", "-name", "x", "-j", `k={"pw":hunter2}`}, 2, "emit: -j k: not JSON: syntax error at byte 7"},
		{"two JSON values", nil, []string{"emit", "-name", "x", "-j", "k=1 2"}, 2, "emit: -j k: want one JSON value, got more after byte 1"},
		{"JSON then garbage", nil, []string{"emit", "-name", "x", "-j", "k=1 }"}, 2, "emit: -j k: want one JSON value, got more after byte 1"},
		{"key twice", nil, []string{"emit", "-name", "x", "-p", "k=1", "-j", "k=1"}, 2, `emit: -j: property "k" given twice`},
		{"key twice, first null", nil, []string{"emit", "-name", "x", "-j", "k=null", "-j", "k=1"}, 2, `emit: -j: property "k" given twice`},
		{"bad timestamp", nil, []string{"emit", "-name", "x", "-timestamp", "yesterday"}, 2, `-timestamp "yesterday": want RFC 3339`},
		{"timestamp in year 10000 in UTC", nil, []string{"emit", "-name", "x", "-timestamp", "9999-12-31T23:30:00-01:00"}, 1, "timestamp outside years 0-9999 1"},
		{"sampled out", map[string]string{"MULTITRACK_SAMPLE": "x=0"}, []string{"emit", "-name", "x"}, 1, "sampled out"},
		{"no sinks", map[string]string{"MULTITRACK_SINKS": "none"}, []string{"emit", "-name", "x"}, 1, "no sinks"},
		{"bad configuration", map[string]string{"MULTITRACK_SINKS": "nope"}, []string{"emit", "-name", "x"}, 1, `unknown sink "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := runEnv(t, c.env, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "hunter2") {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

// -p values are strings, -j values JSON (numbers exact), -timestamp sets
// the event's time.
func TestEmitTypedPropertiesAndTimestamp(t *testing.T) {
	out, errOut, code := runEnv(t, map[string]string{"MULTITRACK_STDOUT_FORMAT": "json"}, "emit", "-name", "x",
		"-p", "s=3", "-j", "n=3", "-j", "big=18446744073709551615", "-j", "f=0.5", "-j", "ok=true", "-j", `tags=["a",null]`,
		"-timestamp", "2026-11-28T11:15:03.5+01:00")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `"timestamp":"2026-11-28T10:15:03.500000Z","properties":{"big":18446744073709551615,"f":0.5,"n":3,"ok":true,"s":"3","tags":["a",null]}}`
	if !strings.HasSuffix(strings.TrimSpace(out), want) {
		t.Errorf("emitted %s\nwant it to end %s", out, want)
	}
}

// A misspelt variable is a warning: on stderr for the commands that run,
// listed by config; neither fails.
func TestMisspeltVariablesAreWarned(t *testing.T) {
	env := map[string]string{"MULTITRACK_SINK": "file", "MULTITRACK_FILE_PATH": "/nonexistent/events.jsonl", "MULTITRACK_STDOUT_FORMAT": "json"}
	environ := []string{"MULTITRACK_SINK=file", "MULTITRACK_FILE_PATH=/nonexistent/events.jsonl", "MULTITRACK_STDOUT_FORMAT=json"}
	warnings := []string{
		"MULTITRACK_FILE_PATH: setting of a sink that is not selected, ignored: MULTITRACK_SINKS selects stdout, not file",
		"MULTITRACK_SINK: unknown variable, ignored; did you mean MULTITRACK_SINKS?",
	}
	for _, args := range [][]string{{"emit", "-name", "x"}, {"config"}} {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Environ: func() []string { return environ }}
		if code := exitCode(m.Run(context.Background(), args), &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		for _, w := range warnings {
			got, want := errOut.String(), "multitrack: warning: "+w+"\n"
			if args[0] == "config" {
				got, want = out.String(), "  - "+w+"\n"
			}
			if !strings.Contains(got, want) {
				t.Errorf("%v: no %q in\n%s", args, want, got)
			}
		}
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
