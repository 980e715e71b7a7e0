package registry_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

func init() {
	// keyed declares its settings: a misspelt one is found even while it
	// is not selected.
	registry.Register("keyed", func(cfg registry.Config) (tracker.Sink, error) {
		cfg.Get("URL")
		return noop.New(), nil
	}, "url", "TIMEOUT")
}

// typoWarnings are the warnings typos.env gives, in order.
var typoWarnings = []struct {
	name string
	is   error
	msg  string // after "NAME: "
}{
	{"MULTITRACK_FILE_PATH", registry.ErrSinkNotSelected, "setting of a sink that is not selected, ignored: MULTITRACK_SINKS selects probe, not file"},
	{"MULTITRACK_POSTHOG_API_KEY", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean POSTHOG_API_KEY?"},
	{"MULTITRACK_PROBE_LABLE", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean MULTITRACK_PROBE_LABEL?"},
	{"MULTITRACK_QUEUE", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean MULTITRACK_QUEUE_SIZE?"},
	{"MULTITRACK_SINK", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean MULTITRACK_SINKS?"},
	{"MULTITRACK_STDOUT_FROMAT", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean MULTITRACK_STDOUT_FORMAT?"},
	{"MULTITRACK_ZZZ_TOP", registry.ErrUnknownVariable, "unknown variable, ignored"},
	{"POSTHOG_APIKEY", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean POSTHOG_API_KEY?"},
	{"multitrack_sinks", registry.ErrUnknownVariable, "unknown variable, ignored; did you mean MULTITRACK_SINKS?"},
}

func TestVariablesWithoutEffectAreWarnedWithASuggestion(t *testing.T) {
	h := loadFixture(t, "typos")
	env := h.registryEnv()
	var got []error
	env.OnWarning = func(err error) { got = append(got, err) }
	if _, err := h.buildEnv(t, env); err != nil {
		t.Fatalf("warnings failed the configuration: %v", err)
	}
	if len(got) != len(typoWarnings) {
		t.Errorf("%d warnings, want %d: %v", len(got), len(typoWarnings), got)
	}
	for i, w := range typoWarnings {
		if i >= len(got) {
			break
		}
		var ve *registry.VarError
		if !errors.As(got[i], &ve) || ve.Var != w.name || !errors.Is(got[i], w.is) || got[i].Error() != w.name+": "+w.msg {
			t.Errorf("warning %d = %q, want %q matching %v", i, got[i], w.name+": "+w.msg, w.is)
		}
	}

	// Without OnWarning, they go to the MULTITRACK_LOG_LEVEL logger.
	if _, err := h.build(t); err != nil {
		t.Fatal(err)
	}
	log := contents(t, h.stderr)
	for _, w := range typoWarnings {
		if !strings.Contains(log, `"variable":"`+w.name+`"`) || !strings.Contains(log, w.msg) {
			t.Errorf("no warning logged for %s:\n%s", w.name, log)
		}
	}

	// multitrack config lists them; they are not problems.
	text, err := h.registryEnv().Describe()
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if !strings.Contains(text, "9 warnings (variables that have no effect):") {
		t.Errorf("Describe does not list the warnings:\n%s", text)
	}
	for _, w := range typoWarnings {
		if !strings.Contains(text, "  - "+w.name+": "+w.msg+"\n") {
			t.Errorf("Describe does not show the warning for %s:\n%s", w.name, text)
		}
	}
	if strings.Contains(text, "phc_typos") {
		t.Errorf("Describe shows the value of an unknown variable:\n%s", text)
	}
}

// With only a lookup function the environment cannot be listed: the
// settings that registered sinks declare are still checked.
func TestDeclaredSettingsOfAnUnselectedSinkAreWarnedWithoutEnviron(t *testing.T) {
	env := map[string]string{
		"MULTITRACK_SINKS":      "noop",
		"MULTITRACK_KEYED_URL":  "https://example.invalid",
		"MULTITRACK_FILE_SYNC":  "always",
		"MULTITRACK_SINK":       "file", // cannot be found without Environ
		"MULTITRACK_STDOUT_FMT": "json", // nor this one
	}
	var got []string
	e := registry.Env{
		Lookup:    mapLookup(env),
		OnWarning: func(err error) { got = append(got, err.Error()) },
	}
	tr, err := e.Tracker()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(t.Context())
	want := []string{
		"MULTITRACK_FILE_SYNC: setting of a sink that is not selected, ignored: MULTITRACK_SINKS selects noop, not file",
		"MULTITRACK_KEYED_URL: setting of a sink that is not selected, ignored: MULTITRACK_SINKS selects noop, not keyed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A sink's declared keys give the suggestions for its settings, and a
// declared key its factory did not read is no warning.
func TestDeclaredKeysOfASelectedSink(t *testing.T) {
	env := map[string]string{
		"MULTITRACK_SINKS":         "keyed",
		"MULTITRACK_KEYED_TIMEOUT": "5s", // declared, not read: fine
		"MULTITRACK_KEYED_URI":     "https://example.invalid",
	}
	var got []string
	e := registry.Env{
		Lookup: mapLookup(env),
		Environ: func() []string {
			return []string{"MULTITRACK_SINKS=keyed", "MULTITRACK_KEYED_TIMEOUT=5s", "MULTITRACK_KEYED_URI=x"}
		},
		OnWarning: func(err error) { got = append(got, err.Error()) },
	}
	tr, err := e.Tracker()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(t.Context())
	if want := "MULTITRACK_KEYED_URI: unknown variable, ignored; did you mean MULTITRACK_KEYED_URL?"; len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q, want [%q]", got, want)
	}
}

// Without OnWarning, warnings are logged where the tracker logs: on the
// logger given with tracker.WithLogger, which replaces MULTITRACK_LOG_LEVEL's
// (here off), as do the registry's other messages.
func TestWarningsGoToTheLoggerGivenWithWithLogger(t *testing.T) {
	env := map[string]string{"MULTITRACK_SINKS": "noop", "MULTITRACK_SINK": "noop"}
	e := registry.Env{
		Lookup:  mapLookup(env),
		Environ: func() []string { return []string{"MULTITRACK_SINKS=noop", "MULTITRACK_SINK=noop"} },
	}
	var log bytes.Buffer
	tr, err := e.Tracker(tracker.WithLogger(zerolog.New(&log).Level(zerolog.InfoLevel)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(t.Context())
	want := `{"level":"warn","variable":"MULTITRACK_SINK","message":"multitrack: unknown variable, ignored; did you mean MULTITRACK_SINKS?"}
{"level":"info","sinks":["noop"],"message":"multitrack: configured from the environment"}
`
	if log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
	}
}

func TestRegisterPanicsOnABadKey(t *testing.T) {
	for _, key := range []string{"", "has space", "_LEADING", "dash-ed"} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), "setting key") {
					t.Errorf("Register with key %q: panic %v", key, p)
				}
			}()
			registry.Register("badkey", func(registry.Config) (tracker.Sink, error) { return noop.New(), nil }, key)
		}()
	}
}
