package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/internal/secret"
	"github.com/multitrack/multitrack/internal/terminal/ptytest"
	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
	"github.com/multitrack/multitrack/tracker/trackertest"
)

func TestSecretsAreNeverEchoed(t *testing.T) {
	h := loadFixture(t, "secret_echo")
	secrets := []string{h.env["POSTHOG_API_KEY"], h.env["MULTITRACK_LEAKY_API_KEY"], h.env["MULTITRACK_LEAKY_TOKEN"]}
	_, err := h.build(t)
	if err == nil {
		t.Fatal("leaky built")
	}
	text, derr := h.registryEnv().Describe()
	if derr == nil || derr.Error() != err.Error() {
		t.Errorf("Describe's error %q differs from FromLookup's %q", derr, err)
	}
	for _, s := range secrets {
		for what, out := range map[string]string{"error": err.Error(), "Describe": text, "log": contents(t, h.stderr)} {
			if strings.Contains(out, s) {
				t.Errorf("the %s shows the secret %q:\n%s", what, s, out)
			}
		}
	}
	for _, line := range []string{"POSTHOG_API_KEY", "MULTITRACK_LEAKY_API_KEY", "MULTITRACK_PROBE_LABEL"} {
		if !strings.Contains(text, line) || !strings.Contains(lineOf(text, line), secret.Marker) {
			t.Errorf("Describe does not show %s as %s:\n%s", line, secret.Marker, text)
		}
	}
	var se *registry.SinkError
	if !errors.As(err, &se) || !strings.Contains(errors.Unwrap(se).Error(), "rejected") {
		t.Errorf("the redacted sink error no longer unwraps to the factory's: %v", err)
	}

	// A property whose key looks secret: its value is in neither the error
	// nor Describe.
	h = loadFixture(t, "bad_globals")
	_, err = h.build(t)
	text, _ = h.registryEnv().Describe()
	if strings.Contains(err.Error(), "hunter22") || strings.Contains(text, "hunter22") {
		t.Errorf("a secret property's value is shown:\n%v\n%s", err, text)
	}

	// A value that does not parse: where a secret starts is unknown, so
	// none of it is shown (Describe once echoed it whole).
	h = loadFixture(t, "secret_properties")
	_, err = h.build(t)
	text, _ = h.registryEnv().Describe()
	if err == nil || strings.Contains(err.Error()+text, "hunter2") {
		t.Errorf("an unparsed MULTITRACK_PROPERTIES is shown:\n%v\n%s", err, text)
	}
	if got := lineOf(text, "MULTITRACK_PROPERTIES"); got != "MULTITRACK_PROPERTIES "+secret.Marker+" (does not parse)" {
		t.Errorf("Describe shows %q", got)
	}
}

// lineOf returns the line of text that starts with s, its runs of spaces
// (column padding) made single.
func lineOf(text, s string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, s) {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return ""
}

func TestDescribeShowsValuesAndDefaults(t *testing.T) {
	h := loadFixture(t, "probe_settings")
	text, err := h.registryEnv().Describe()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][2]string{
		{"sinks: probe, noop", ""},
		{"MULTITRACK_SINKS", "Probe ,noop,"},
		{"MULTITRACK_QUEUE_SIZE", "8192 (default)"},
		{"MULTITRACK_OVERFLOW", "drop_newest (default)"},
		{"MULTITRACK_MAX_EVENT_SIZE", "32KiB (default)"},
		{"MULTITRACK_LOG_LEVEL", "off (default)"},
		{"POSTHOG_API_KEY", "(unset)"},
		{"sink probe:", ""},
		{"MULTITRACK_PROBE_COUNT", "7"},
		{"MULTITRACK_PROBE_BUF", "64KiB"},
		{"MULTITRACK_PROBE_FAIL", "false (default)"},
	} {
		if !strings.Contains(lineOf(text, want[0]), want[1]) {
			t.Errorf("Describe line for %s does not show %q:\n%s", want[0], want[1], text)
		}
	}
	if strings.Contains(text, "problem") {
		t.Errorf("problems listed for a good configuration:\n%s", text)
	}
	// Describe builds to check, and closes what it built.
	if p := probeFor(t, h.id); !p.Closed() {
		t.Error("Describe left the probe sink open")
	}
}

func TestRegisterPanics(t *testing.T) {
	f := func(registry.Config) (tracker.Sink, error) { return noop.New(), nil }
	cases := []struct {
		name string
		f    registry.Factory
		want string
	}{
		{"", f, "empty sink name"},
		{"nilfactory", nil, "nil Factory"},
		{"stdout", f, "Register called twice"},
		{"probe", f, "Register called twice"},
		{"none", f, "reserved"},
		{"queue", f, "MULTITRACK_QUEUE_SIZE"},
		{"dead_letter", f, "MULTITRACK_DEAD_LETTER_PATH"},
		{"Kafka", f, "lower-case"},
		{"9lives", f, "lower-case"},
		{"web-hook", f, "lower-case"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(fmt.Sprint(p), c.want) {
					t.Errorf("Register(%q) panicked with %v, want a panic about %q", c.name, p, c.want)
				}
			}()
			registry.Register(c.name, c.f)
		})
	}
}

func TestSinksSorted(t *testing.T) {
	names := registry.Sinks()
	for _, want := range []string{"noop", "stdout", "probe"} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Errorf("Sinks() = %v, missing %s", names, want)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("Sinks() not sorted: %v", names)
		}
	}
}

func TestFactoriesGiveFreshSinks(t *testing.T) {
	ctx := context.Background()
	h := loadFixture(t, "sizes")
	before := builds.Load()
	t1, err := registry.FromLookup(h.lookup)
	if err != nil {
		t.Fatal(err)
	}
	p1 := probeFor(t, h.id)
	t2, err := registry.FromLookup(h.lookup)
	if err != nil {
		t.Fatal(err)
	}
	defer t2.Close(ctx)
	p2 := probeFor(t, h.id)
	if builds.Load()-before != 2 || p1 == p2 {
		t.Fatalf("two trackers, %d factory calls, same sink: %v", builds.Load()-before, p1 == p2)
	}
	t1.Capture(ctx, tracker.Event{Name: "one"})
	if err := t1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !p1.Closed() || p2.Closed() {
		t.Errorf("closing the first tracker: first sink closed %v, second closed %v", p1.Closed(), p2.Closed())
	}
	if p1.Len() != 1 || p2.Len() != 0 {
		t.Errorf("an event captured by the first tracker reached %d and %d events", p1.Len(), p2.Len())
	}
}

func TestCodeOptionsApplyOnTop(t *testing.T) {
	ctx := context.Background()
	h := loadFixture(t, "code_on_top")
	extra := trackertest.NewRecorder()
	tr, err := h.build(t,
		tracker.WithProperties(map[string]any{"service": "worker", "version": "1.2"}),
		tracker.WithFallbackDistinctID("from-code"),
		tracker.WithSink("extra", extra),
	)
	if err != nil {
		t.Fatal(err)
	}
	tr.Capture(ctx, tracker.Event{Name: "job_done"})
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sink := range []*trackertest.Recorder{extra, probeFor(t, h.id).Recorder} {
		ev := sink.Events()
		if len(ev) != 1 {
			t.Fatalf("%d events, want 1", len(ev))
		}
		p := ev[0].Properties
		if p["service"] != "worker" || p["region"] != "eu" || p["version"] != "1.2" || ev[0].DistinctID != "from-code" {
			t.Errorf("event %+v: want the code's service, version and distinct id over the environment's region", ev[0])
		}
	}

	// A code option that makes the tracker fail: the sinks built from the
	// environment are closed, the caller's sink is left alone.
	h = loadFixture(t, "code_on_top")
	mine := trackertest.NewRecorder()
	_, err = h.build(t, tracker.WithSink("probe", mine))
	if err == nil || !strings.Contains(err.Error(), `"probe": added twice`) {
		t.Fatalf("want the tracker's duplicate-sink error, got %v", err)
	}
	if !probeFor(t, h.id).Closed() || mine.Closed() {
		t.Errorf("after the failure: environment's probe closed %v (want true), caller's closed %v (want false)", probeFor(t, h.id).Closed(), mine.Closed())
	}
}

func TestDefaultSinks(t *testing.T) {
	h := loadFixture(t, "empty")
	env := h.registryEnv()
	env.DefaultSinks = "stdout"
	tr, err := env.Tracker()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	if _, ok := tr.Stats().Sinks["stdout"]; !ok || len(tr.Stats().Sinks) != 1 {
		t.Errorf("DefaultSinks=stdout gave sinks %v", tr.Stats().Sinks)
	}
}

func TestTypedGetters(t *testing.T) {
	cases := []struct {
		vars map[string]string
		want probe    // the fields compared
		bad  []string // in the order the factory reads them
	}{
		{map[string]string{"BUF": "4096", "ON": "TRUE", "WAIT": "250ms", "COUNT": "1"}, probe{buf: 4096, on: true, wait: 250 * time.Millisecond, count: 1}, nil},
		{map[string]string{"BUF": "10MB", "ON": "off"}, probe{buf: 10_000_000, wait: time.Second, count: 3}, nil},
		{map[string]string{"BUF": "1.5KiB", "ON": "1"}, probe{buf: 1536, on: true, wait: time.Second, count: 3}, nil},
		{map[string]string{"BUF": "2 GiB", "ON": "n"}, probe{buf: 2 << 30, wait: time.Second, count: 3}, nil},
		// Sizes are exact: no rounding through float64.
		{map[string]string{"BUF": "9007199254740993"}, probe{buf: 9007199254740993, wait: time.Second, count: 3}, nil},
		{map[string]string{"BUF": "0.5KiB"}, probe{buf: 512, wait: time.Second, count: 3}, nil},
		{map[string]string{"BUF": "9223372036854775808", "WAIT": "3000000h"}, probe{}, []string{"WAIT", "BUF"}},
		{map[string]string{"BUF": "1.3B", "COUNT": "1e3", "WAIT": "-1s", "ON": "2"}, probe{}, []string{"COUNT", "WAIT", "ON", "BUF"}},
		{map[string]string{"BUF": "-1", "COUNT": "99999999999999999999", "WAIT": "0s"}, probe{}, []string{"COUNT", "WAIT", "BUF"}},
		{map[string]string{"BUF": "1TB", "WAIT": "5"}, probe{}, []string{"WAIT", "BUF"}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			h := loadFixture(t, "sizes")
			for k, v := range c.vars {
				h.env["MULTITRACK_PROBE_"+k] = v
			}
			_, err := h.build(t)
			if len(c.bad) > 0 {
				got := problems(t, err)
				if len(got) != len(c.bad) {
					t.Fatalf("%d problems, want %d: %v", len(got), len(c.bad), err)
				}
				for j, key := range c.bad {
					var ve *registry.VarError
					if !errors.As(got[j], &ve) || ve.Var != "MULTITRACK_PROBE_"+key || !strings.Contains(ve.Error(), fmt.Sprintf("%q", strings.TrimSpace(c.vars[key]))) {
						t.Errorf("problem %d = %v, want one naming MULTITRACK_PROBE_%s and its value", j, got[j], key)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := probeFor(t, h.id)
			if p.buf != c.want.buf || p.on != c.want.on || p.wait != c.want.wait || p.count != c.want.count {
				t.Errorf("buf=%d on=%v wait=%v count=%d, want %+v", p.buf, p.on, p.wait, p.count, c.want)
			}
		})
	}
}

func TestConfigZeroValue(t *testing.T) {
	var c registry.Config
	if c.Get("X") != "" || c.Int("X", 4, 0) != 4 || c.Err() != nil || c.Stdout() != nil || c.Secret("X") != "" {
		t.Error("the zero Config does not return defaults")
	}
	c.Invalid("X", errors.New("ignored")) // no panic
	log := c.Logger()
	log.Info().Msg("discarded")
}

func TestConcurrentRegisterAndFromLookup(t *testing.T) {
	ctx := context.Background()
	lookup := func(name string) (string, bool) {
		if name == "MULTITRACK_SINKS" {
			return "noop,stdout", true
		}
		if name == "MULTITRACK_STDOUT_FORMAT" {
			return "json", true
		}
		return "", false
	}
	out := tempFile(t, t.TempDir(), "stdout")
	run := fixtureID.Add(1) // names are new on every run (-count)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			registry.Register(fmt.Sprintf("conc%d_%d", run, i), func(registry.Config) (tracker.Sink, error) { return noop.New(), nil })
			_ = registry.Sinks()
		})
		wg.Go(func() {
			tr, err := registry.Env{Lookup: lookup, Stdout: out}.Tracker()
			if err != nil {
				errs <- err
				return
			}
			tr.Capture(ctx, tracker.Event{Name: "concurrent"})
			errs <- tr.Close(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := strings.Count(contents(t, out), `"event":"concurrent"`); n != 8 {
		t.Errorf("%d events on the stdout sinks, want 8", n)
	}
	tr, err := registry.FromLookup(func(name string) (string, bool) {
		return fmt.Sprintf("conc%d_0,conc%d_7", run, run), name == "MULTITRACK_SINKS"
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Stats().Sinks) != 2 {
		t.Errorf("sinks %v, want conc_0 and conc_7", tr.Stats().Sinks)
	}
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFromEnvReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("MULTITRACK_SINKS", "noop")
	t.Setenv("MULTITRACK_QUEUE_SIZE", "1")
	t.Setenv("MULTITRACK_PROPERTIES", "service=from-env")
	rec := trackertest.NewRecorder()
	tr, err := registry.FromEnv(tracker.WithSink("mine", rec))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	if _, ok := tr.Stats().Sinks["noop"]; !ok {
		t.Errorf("sinks %v, want noop from MULTITRACK_SINKS", tr.Stats().Sinks)
	}
	tr.Capture(context.Background(), tracker.Event{Name: "hello"})
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := rec.Events(); len(ev) != 1 || ev[0].Properties["service"] != "from-env" {
		t.Errorf("events %+v, want one with service=from-env", ev)
	}

	t.Setenv("MULTITRACK_QUEUE_SIZE", "one")
	if _, err := registry.FromEnv(); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("MULTITRACK_QUEUE_SIZE=one: error %v, want ErrInvalid", err)
	}
}

// Diagnostics on a terminal are readable lines, coloured unless NO_COLOR is
// set or TERM is dumb (read through the Env's lookup, as every variable).
func TestLogLinesOnATerminalFollowTheColorEnvironment(t *testing.T) {
	for _, c := range []struct {
		term, noColor string
		color         bool
	}{{"xterm-256color", "", true}, {"xterm-256color", "1", false}, {"dumb", "", false}} {
		t.Run(c.term+"/"+c.noColor, func(t *testing.T) {
			tty, master := ptytest.Open(t)
			env := map[string]string{"MULTITRACK_SINKS": "noop", "MULTITRACK_LOG_LEVEL": "info", "TERM": c.term, "NO_COLOR": c.noColor}
			tr, err := registry.Env{Lookup: mapLookup(env), Stderr: tty}.Tracker()
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close(context.Background())
			line := ptytest.ReadLine(t, master)
			if !strings.Contains(line, "configured from the environment") || strings.Contains(line, "\x1b[") != c.color {
				t.Errorf("TERM=%s NO_COLOR=%s: log line %q, want colour %v", c.term, c.noColor, line, c.color)
			}
		})
	}
}
