package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/secret"
	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

func TestGoodEnvironments(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		sinks []string
		setup func(t *testing.T, h *harness)
		check func(t *testing.T, h *harness, tr *tracker.Tracker)
	}{
		{name: "empty", sinks: nil},
		{name: "none_with_key", sinks: nil},
		{
			name:  "stdout_json",
			sinks: []string{"stdout"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				tr.Capture(ctx, tracker.Event{Name: "query_initiated", Properties: map[string]any{"region": "us"}})
				if err := tr.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				e, err := eventline.Parse([]byte(strings.TrimSuffix(contents(t, h.stdout), "\n")))
				if err != nil {
					t.Fatalf("stdout is not one event line: %v\n%s", err, contents(t, h.stdout))
				}
				want := map[string]any{"service": "api", "region": "us", "note": "a,b=c"}
				if len(e.Properties) != len(want) {
					t.Errorf("properties %v, want %v", e.Properties, want)
				}
				for k, v := range want {
					if e.Properties[k] != v {
						t.Errorf("property %s = %v, want %v (the event's own value wins)", k, e.Properties[k], v)
					}
				}
				if e.DistinctID != "api-server" {
					t.Errorf("distinct id %q, want the fallback api-server", e.DistinctID)
				}
				if log := contents(t, h.stderr); !strings.Contains(log, `"level":"info"`) || !strings.Contains(log, `"sinks":["stdout"]`) {
					t.Errorf("no info line naming the sinks on stderr: %q", log)
				}
			},
		},
		{
			name:  "probe_settings",
			sinks: []string{"noop", "probe"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				p := probeFor(t, h.id)
				if p.label != "eu-1" || p.count != 7 || p.wait != 90*time.Second || !p.on || p.buf != 64<<10 {
					t.Errorf("probe settings label=%q count=%d wait=%v on=%v buf=%d", p.label, p.count, p.wait, p.on, p.buf)
				}
				if contents(t, h.stderr) != "" {
					t.Errorf("log level off by default, but stderr has %q", contents(t, h.stderr))
				}
			},
		},
		{
			name:  "queue_overflow",
			sinks: []string{"probe"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				p := probeFor(t, h.id)
				for range 10 {
					tr.Capture(ctx, tracker.Event{Name: "query_initiated"})
				}
				// The worker, woken when the queue of MULTITRACK_QUEUE_SIZE=2
				// fills, holds at most those two in a blocked Write; the
				// queue holds two more.
				s := tr.Stats().Sinks["probe"]
				if d := s.Dropped.QueueFull; d < 6 || d > 8 {
					t.Errorf("dropped %d of 10 with a queue of 2, want 6 to 8", d)
				}
				close(p.release)
				if err := tr.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				if got := uint64(p.Len()) + tr.Stats().Sinks["probe"].Dropped.QueueFull; got != 10 {
					t.Errorf("delivered + dropped = %d, want 10", got)
				}
			},
		},
		{
			name:  "dead_letter",
			sinks: []string{"probe"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				h.undelivered = "probe" // Close names the failed event
				tr.Capture(ctx, tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01"}})
				if err := tr.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				events, bad, err := eventline.ReadFile(filepath.Join(h.dir, "dead", "letters.jsonl"))
				if err != nil || len(bad) > 0 {
					t.Fatalf("dead-letter file: %v %v", err, bad)
				}
				if len(events) != 1 || events[0].Name != "query_failed" || events[0].Properties[tracker.PropSink] != "probe" {
					t.Errorf("dead letters %+v, want the failed event from probe", events)
				}
			},
		},
		{
			name:  "file_sink",
			sinks: []string{"file"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				tr.Capture(ctx, tracker.Event{Name: "warehouse_provisioned", DistinctID: "org_42"})
				if err := tr.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(h.dir, "events", "app.jsonl")
				events, bad, err := eventline.ReadFile(path)
				if err != nil || len(bad) > 0 || len(events) != 1 || events[0].Name != "warehouse_provisioned" {
					t.Fatalf("event file: %v %v %+v", err, bad, events)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("event file mode %v (%v), want 0600", fi.Mode(), err)
				}
				// Describe opens the file too, to check it, while the
				// tracker has it open: the two file sinks share it.
				text, err := registry.Describe(h.lookup)
				if err != nil {
					t.Fatal(err)
				}
				if err := tr.Close(ctx); err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"MULTITRACK_FILE_MAX_SIZE_MB 1", "MULTITRACK_FILE_MAX_BACKUPS 0", "MULTITRACK_FILE_SYNC Always"} {
					if lineOf(text, strings.Fields(want)[0]) != want {
						t.Errorf("Describe does not show %q:\n%s", want, text)
					}
				}
			},
		},
		{
			name:  "sampled",
			sinks: []string{"probe"},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				for _, name := range []string{"noisy", "kept", "noisy"} {
					tr.Capture(ctx, tracker.Event{Name: name})
				}
				// rare=0.5:by=org: each organization is kept or not as a
				// whole, with $sample_rate 0.5 when kept.
				for i := range 40 {
					org := tracker.WithOrganization(ctx, fmt.Sprintf("org_%d", i))
					tr.Capture(org, tracker.Event{Name: "rare"})
					tr.Capture(org, tracker.Event{Name: "rare"})
				}
				if err := tr.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				p := probeFor(t, h.id)
				if len(p.Named("noisy")) != 0 || len(p.Named("kept")) != 1 {
					t.Errorf("noisy=never, *=1: got %d noisy and %d kept", len(p.Named("noisy")), len(p.Named("kept")))
				}
				rare := p.Named("rare")
				perOrg := map[string]int{}
				for _, e := range rare {
					perOrg[e.DistinctID]++
					if e.Properties[tracker.PropSampleRate] != 0.5 {
						t.Fatalf("a rare event kept without $sample_rate 0.5: %v", e.Properties)
					}
				}
				for org, n := range perOrg {
					if n != 2 {
						t.Errorf("%s: %d of its 2 events kept, want both (sampled by organization)", org, n)
					}
				}
				if len(perOrg) == 0 || len(perOrg) == 40 {
					t.Errorf("%d of 40 organizations kept at 0.5", len(perOrg))
				}
			},
		},
		{
			name:  "plan_enforced",
			sinks: []string{"noop"},
			setup: func(t *testing.T, h *harness) {
				src := "events:\n  query_failed:\n    properties:\n      sqlstate: {type: string, required: true}\n"
				if err := os.WriteFile(filepath.Join(h.dir, "plan.yaml"), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, h *harness, tr *tracker.Tracker) {
				tr.Capture(context.Background(), tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01", "customer_email": "a@example.com"}})
				if err := tr.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				if s := tr.Stats(); s.Plan.UnknownProperty != 1 || s.Stripped != 1 || s.Kept != 1 {
					t.Errorf("plan %+v, stripped %d, kept %d: want the unknown property stripped (MULTITRACK_PLAN_MODE=Strip)", s.Plan, s.Stripped, s.Kept)
				}
				log := contents(t, h.stderr)
				if !strings.Contains(log, `"property":"customer_email"`) || !strings.Contains(log, "breaks the tracking plan") || strings.Contains(log, "example.com") {
					t.Errorf("want a warning naming the property, never its value; stderr: %q", log)
				}
				text, err := registry.Describe(h.lookup)
				if err != nil {
					t.Fatal(err)
				}
				if want := "tracking plan: " + filepath.Join(h.dir, "plan.yaml") + ", 1 event, enforced in mode strip\n"; !strings.Contains(text, want) {
					t.Errorf("Describe does not say %q:\n%s", want, text)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := loadFixture(t, c.name)
			if c.setup != nil {
				c.setup(t, h)
			}
			tr, err := h.build(t)
			if err != nil {
				t.Fatalf("FromLookup: %v", err)
			}
			var got []string
			for name := range tr.Stats().Sinks {
				got = append(got, name)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.sinks) {
				t.Fatalf("sinks %v, want %v", got, c.sinks)
			}
			if c.check != nil {
				c.check(t, h, tr)
			}
		})
	}
}

// wantProblem is one expected problem: the variable it names (or the sink,
// for a *SinkError), the sentinel it matches, and a piece of its message.
type wantProblem struct {
	name string
	is   error
	text string
}

func TestBadEnvironmentsReportEveryProblem(t *testing.T) {
	cases := map[string][]wantProblem{
		"bad_globals": {
			{"MULTITRACK_LOG_LEVEL", registry.ErrInvalid, `"loud": want off, error, warn, info or debug`},
			{"MULTITRACK_SAMPLE", sampling.ErrBadRate, `rule 1 "query_initiated=2" (byte 0): rate out of range`},
			{"MULTITRACK_SAMPLE", sampling.ErrSyntax, `rule 2 "bogus" (byte 18): malformed`},
			{"MULTITRACK_QUEUE_SIZE", registry.ErrInvalid, `"abc": want a whole number from 1 to 1048576`},
			{"MULTITRACK_OVERFLOW", registry.ErrInvalid, `"sideways": want drop_newest, drop_oldest or block`},
			{"MULTITRACK_DEAD_LETTER_PATH", registry.ErrInvalid, "not a directory"},
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, "byte 0 (item 1): want key=value"},
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, "byte 8 (item 2): empty key"},
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, `byte 15 (item 4): key "a" given twice`},
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, `property "db_password": the key looks secret`},
			{"MULTITRACK_MAX_EVENT_SIZE", registry.ErrInvalid, `"12parsecs": want a size from 1B to 1MiB`},
			{"MULTITRACK_PLAN_MODE", registry.ErrInvalid, `"enforce": want warn, strip or drop`},
			{"MULTITRACK_PLAN_MODE", registry.ErrInvalid, "set without MULTITRACK_PLAN_PATH"},
		},
		"bad_numbers": {
			{"MULTITRACK_QUEUE_SIZE", registry.ErrInvalid, `"0": want a whole number from 1 to 1048576`},
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, "byte 18: ends with a lone backslash"},
			{"MULTITRACK_MAX_EVENT_SIZE", registry.ErrInvalid, `"0": want a size from 1B to 1MiB`},
			{"MULTITRACK_PLAN_PATH", registry.ErrInvalid, "want a readable tracking-plan file"},
		},
		"bad_plan": {
			{"MULTITRACK_PLAN_PATH", registry.ErrInvalid, "tracking plan: 2 problems\n\t../testdata/plans/bad.yaml:6: events.query_failed.properties.sqlstate.type: unknown type \"strng\" (did you mean \"string\"?)"},
		},
		"unknown_sinks": {
			{"MULTITRACK_SINKS", registry.ErrInvalid, `"stdout" is listed 3 times: want each sink once`},
			{"MULTITRACK_SINKS", registry.ErrUnknownSink, `unknown sink "kafka": want a comma list of `},
			{"MULTITRACK_SINKS", registry.ErrUnknownSink, `unknown sink "nop": did you mean noop? want a comma list of `},
			{"MULTITRACK_SINKS", registry.ErrInvalid, "want none alone"},
		},
		"bad_sink_settings": {
			{"MULTITRACK_QUEUE_SIZE", registry.ErrInvalid, `"-5": want a whole number from 1 to 1048576`},
			{"MULTITRACK_STDOUT_FORMAT", registry.ErrInvalid, `"xml": want auto, json or pretty`},
			{"MULTITRACK_PROBE_COUNT", registry.ErrInvalid, `"0": want a whole number ≥ 1`},
			{"MULTITRACK_PROBE_WAIT", registry.ErrInvalid, `"forever": want a positive duration`},
			{"MULTITRACK_PROBE_ON", registry.ErrInvalid, `"maybe": want true or false`},
			{"MULTITRACK_PROBE_BUF", registry.ErrInvalid, `"12parsecs": want a size in bytes`},
			{"MULTITRACK_PROBE_LABEL", registry.ErrMissing, `required by sink "probe" but not set`},
		},
		"bad_posthog": {
			{"POSTHOG_API_KEY", registry.ErrMissing, `required by sink "posthog" but not set`},
			{"POSTHOG_HOST", registry.ErrInvalid, "want an http or https URL"},
			{"MULTITRACK_POSTHOG_BATCH_SIZE", registry.ErrInvalid, `"0": want a whole number from 1 to 10000`},
			{"MULTITRACK_POSTHOG_INTERVAL", registry.ErrInvalid, `"soon": want a duration from 1ms to 1h0m0s`},
		},
		"bad_file": {
			{"MULTITRACK_FILE_PATH", registry.ErrMissing, `required by sink "file" but not set`},
			{"MULTITRACK_FILE_MAX_SIZE_MB", registry.ErrInvalid, `"-1": want a whole number from 0 to 1048576`},
			{"MULTITRACK_FILE_MAX_BACKUPS", registry.ErrInvalid, `"many": want a whole number from 0 to 100000`},
			{"MULTITRACK_FILE_SYNC", registry.ErrInvalid, `"sometimes": want always, interval or never`},
		},
		// Every numeric setting has a range, named in its error: none
		// wraps or overflows.
		"bad_ranges": {
			{"MULTITRACK_QUEUE_SIZE", registry.ErrInvalid, `"99999999999999999999": want a whole number from 1 to 1048576`},
			{"MULTITRACK_MAX_EVENT_SIZE", registry.ErrInvalid, `"2MiB": want a size from 1B to 1MiB`},
			{"MULTITRACK_FILE_MAX_SIZE_MB", registry.ErrInvalid, `"17592186044417": want a whole number from 0 to 1048576`},
			{"MULTITRACK_FILE_MAX_BACKUPS", registry.ErrInvalid, `"1000000": want a whole number from 0 to 100000`},
			{"MULTITRACK_POSTHOG_BATCH_SIZE", registry.ErrInvalid, `"1000000000": want a whole number from 1 to 10000`},
			{"MULTITRACK_POSTHOG_INTERVAL", registry.ErrInvalid, `"3000000h": want a duration from 1ms to 1h0m0s`},
		},
		"file_unwritable": {
			{"file", syscall.ENOTDIR, "sink file: "},
		},
		"failing_sinks": {
			{"failing", nil, "sink failing: cannot connect"},
			{"panicky", nil, "sink panicky: factory panicked: boom"},
		},
		// The parse error names the byte (counted in the value as set,
		// before its leading space is trimmed), never the value.
		"secret_properties": {
			{"MULTITRACK_PROPERTIES", registry.ErrInvalid, "invalid value: byte 21: ends with a lone backslash"},
		},
		"secret_echo": {
			{"MULTITRACK_LEAKY_API_KEY", registry.ErrInvalid, "invalid value: want a whole number ≥ 0"},
			{"MULTITRACK_LEAKY_TOKEN", registry.ErrInvalid, "invalid value (not shown: the variable is secret)"},
			{"leaky", nil, "key [redacted] rejected"},
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			h := loadFixture(t, name)
			// file_unwritable: the file sink's directory is a regular file.
			if err := os.WriteFile(filepath.Join(h.dir, "not-a-dir"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			tr, err := h.build(t)
			if err == nil {
				t.Fatalf("FromLookup built a tracker with sinks %v", tr.Stats().Sinks)
			}
			got := problems(t, err)
			if len(got) != len(want) {
				t.Errorf("%d problems, want %d:\n%v", len(got), len(want), err)
			}
			for i, w := range want {
				if i >= len(got) {
					break
				}
				checkProblem(t, got[i], w)
				if w.is != nil && !errors.Is(err, w.is) {
					t.Errorf("errors.Is(err, %v) is false for the whole error", w.is)
				}
			}
			if !strings.HasPrefix(err.Error(), "multitrack configuration: ") {
				t.Errorf("message does not say what failed: %q", err)
			}
			if p, ok := probes.Load(h.id); ok && !p.(*probe).Closed() {
				t.Error("the probe sink built before the failure was not closed")
			}
		})
	}
}

func checkProblem(t *testing.T, got error, w wantProblem) {
	t.Helper()
	var ve *registry.VarError
	var se *registry.SinkError
	switch {
	case errors.As(got, &ve):
		if ve.Var != w.name {
			t.Errorf("problem %q names %s, want %s", got, ve.Var, w.name)
		}
	case errors.As(got, &se):
		if se.Sink != w.name {
			t.Errorf("problem %q names sink %s, want %s", got, se.Sink, w.name)
		}
	default:
		t.Errorf("problem %q (%T) is neither a *VarError nor a *SinkError", got, got)
	}
	if w.is != nil && !errors.Is(got, w.is) {
		t.Errorf("problem %q does not match %v", got, w.is)
	}
	if !strings.Contains(got.Error(), w.text) {
		t.Errorf("problem %q does not contain %q", got, w.text)
	}
}

func TestDescribeHidesAPasswordInAURL(t *testing.T) {
	for _, host := range []string{
		"https://bob:HOSTPASS123@ph.example",
		"https://bob:HOSTPASS123%zz@ph.example",  // does not parse
		"https://bob:HOSTPASS123%40x@ph.example", // percent-encoded
		"https://bob:HOST/PASS123@ph.example",    // not encoded
	} {
		env := map[string]string{"MULTITRACK_SINKS": "posthog", "POSTHOG_API_KEY": "phc_k", "POSTHOG_HOST": host}
		text, _ := registry.Describe(mapLookup(env))
		if strings.Contains(text, "PASS123") || !strings.Contains(text, "https://bob:"+secret.Marker+"@ph.example") {
			t.Errorf("POSTHOG_HOST=%s: Describe shows:\n%s", host, text)
		}
	}
}

func TestSinksOfOnlyCommasIsAnError(t *testing.T) {
	_, err := registry.FromLookup(func(k string) (string, bool) {
		if k == "MULTITRACK_SINKS" {
			return " , ,", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "MULTITRACK_SINKS") {
		t.Fatalf("FromLookup = %v", err)
	}
}

func TestBadDeadLetterPathNamesItsVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := registry.FromLookup(func(k string) (string, bool) {
		if k == "MULTITRACK_DEAD_LETTER_PATH" {
			return filepath.Join(file, "dead.jsonl"), true
		}
		return "", false
	})
	var ve *registry.VarError
	if !errors.As(err, &ve) || ve.Var != "MULTITRACK_DEAD_LETTER_PATH" || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("FromLookup = %v", err)
	}
}
