package faults

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// replayWithCLI builds the multitrack command and runs "multitrack replay"
// on path into the PostHog at url: the real replay, end to end.
func replayWithCLI(t *testing.T, path, url string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build multitrack with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "multitrack")
	build := exec.Command(goCmd, "build", "-o", bin, "github.com/multitrack/multitrack/cmd/multitrack")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "replay", "-q", "-sink", "posthog", path)
	var env []string
	for _, kv := range os.Environ() { // the suite's own settings are none of multitrack's
		if !strings.HasPrefix(kv, "MULTITRACK_") && !strings.HasPrefix(kv, "POSTHOG_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "MULTITRACK_SINKS=posthog", "POSTHOG_API_KEY="+testKey, "POSTHOG_HOST="+url,
		"MULTITRACK_DEAD_LETTER_PATH="+filepath.Join(t.TempDir(), "replay-dead-letter.jsonl"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("multitrack replay: %v\n%s", err, out.String())
	}
	t.Logf("multitrack replay: %s", bytes.TrimSpace(out.Bytes()))
}
