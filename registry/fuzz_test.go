package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/registry"
)

const fuzzSecret = "phc_fuzz_secret_value_42"

// FuzzFromLookup feeds arbitrary values to the variables FromLookup parses.
// Whatever they are: no panic; a tracker or an error, never both; every
// problem a *VarError or *SinkError; Describe reports the same error; and
// the API key is in no error, Describe text or log line. Paths are fixed
// to a temporary directory, so that fuzzing writes nowhere else; the seeds
// in testdata/fuzz/FuzzFromLookup run with every `go test`.
func FuzzFromLookup(f *testing.F) {
	f.Add("stdout", "*=1", "8192", "drop_newest", "service=api,region=eu", "off", "json", "32KiB", "")
	f.Add("", "", "", "", "", "", "", "", "")
	f.Add("file,posthog,stdout", "*=0.5:by=org", "64", "drop_oldest", "service=api", "warn", "auto", "1KiB", "warn")
	f.Add("noop,probe", "query_initiated=0.01", "1", "block", `note=a\,b`, "debug", "pretty", "1MB", "strip")
	f.Add("kafka,none", "nonsense", "-1", "sideways", "=x,token="+fuzzSecret, "loud", "xml", "12parsecs", "enforce")
	f.Add("leaky,"+fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret, fuzzSecret)
	f.Fuzz(func(t *testing.T, sinks, sample, queue, overflow, props, level, format, size, planMode string) {
		dir := t.TempDir()
		env := map[string]string{
			"POSTHOG_API_KEY":             fuzzSecret,
			"POSTHOG_HOST":                "http://127.0.0.1:9",
			"MULTITRACK_SINKS":            sinks,
			"MULTITRACK_SAMPLE":           sample,
			"MULTITRACK_QUEUE_SIZE":       queue,
			"MULTITRACK_OVERFLOW":         overflow,
			"MULTITRACK_PROPERTIES":       props,
			"MULTITRACK_LOG_LEVEL":        level,
			"MULTITRACK_STDOUT_FORMAT":    format,
			"MULTITRACK_MAX_EVENT_SIZE":   size,
			"MULTITRACK_PLAN_MODE":        planMode,
			"MULTITRACK_FILE_PATH":        filepath.Join(dir, "events.jsonl"),
			"MULTITRACK_DEAD_LETTER_PATH": filepath.Join(dir, "dead.jsonl"),
		}
		stdout, stderr := tempFile(t, dir, "stdout"), tempFile(t, dir, "stderr")
		e := registry.Env{Lookup: mapLookup(env), Stdout: stdout, Stderr: stderr}
		tr, err := e.Tracker()
		if (tr == nil) == (err == nil) {
			t.Fatalf("tracker %v and error %v", tr, err)
		}
		if tr != nil {
			if err := tr.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		text, derr := e.Describe()
		if (err == nil) != (derr == nil) || err != nil && err.Error() != derr.Error() {
			t.Errorf("FromLookup's error %v, Describe's %v", err, derr)
		}
		for what, out := range map[string]string{"Describe": text, "log": contents(t, stderr)} {
			if strings.Contains(out, fuzzSecret) {
				t.Errorf("the %s shows the API key:\n%s", what, out)
			}
		}
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), fuzzSecret) {
			t.Errorf("the error shows the API key: %v", err)
		}
		for _, p := range problems(t, err) {
			var ve *registry.VarError
			var se *registry.SinkError
			if !errors.As(p, &ve) && !errors.As(p, &se) {
				t.Errorf("problem %q (%T) names no variable and no sink", p, p)
			}
		}
	})
}
