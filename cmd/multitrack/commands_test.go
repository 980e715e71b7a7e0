package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
	e, err := tracker.ParseEventLine([]byte(strings.TrimSpace(out)))
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
