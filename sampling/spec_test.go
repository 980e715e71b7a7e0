package sampling_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

func TestParseSpecGood(t *testing.T) {
	for _, tc := range []struct {
		spec, want string // want: the sampler's canonical form, Format
	}{
		{"", ""},
		{"   ", ""},
		{"*=1", ""},
		{"*=0", "*=never"},
		{"*=0.25", "*=ratio:0.25"},
		{"*=rate:5/h", "*=rate:5/1h0m0s"},
		{"query_initiated=0.01,query_failed=1,*=1", "query_initiated=ratio:0.01,query_failed=always"},
		{" query_initiated = 0.01 , query_failed = 1 ", "query_initiated=ratio:0.01,query_failed=always"},
		{"query_initiated=0.01,*=0.5", "query_initiated=ratio:0.01,*=ratio:0.5"},
		{"query_initiated=ratio:0.01:by=trace_id", "query_initiated=ratio:0.01:by=prop.trace_id"},
		{"a=ratio:0.5:by=uuid", "a=ratio:0.5"},
		{"a=0.5:by=org", "a=ratio:0.5:by=org"},
		{"a=ratio:1", "a=ratio:1"},
		{"a=ratio:0.1:by=organization", "a=ratio:0.1:by=org"},
		{"a=ratio:0.1:by=group.project", "a=ratio:0.1:by=group.project"},
		{"a=ratio:0.1:by=distinct_id", "a=ratio:0.1:by=distinct_id"},
		{"a=ratio:0.1:by=prop.org", "a=ratio:0.1:by=prop.org"},
		{"query_*=rate:100/s:by=org", "query_*=rate:100/1s:by=org"},
		{"query_*=rate:6000/1m:by=event:keys=64", "query_*=rate:6000/1m0s:by=event:keys=64"},
		{"a=rate:10/s:headroom=0.5:keys=4096", "a=rate:10/1s:headroom=0.5"},
		{"a=dynamic:10/s:weight=0.25:keys=9:by=org", "a=dynamic:10/1s:by=org:keys=9:weight=0.25"},
		{"a=burst:1/s:keys=3", "a=burst:1/1s:keys=3"},
		{"job_step=burst:50/1m:then=0.1", "job_step=burst:50/1m0s:then=0.1"},
		{"job_step=burst:50/m:then=always:by=org", "job_step=burst:50/1m0s:then=1:by=org"},
		{"job_step=burst:5/500ms:then=never", "job_step=burst:5/500ms"},
		{"query_initiated=dynamic:200/s:by=org", "query_initiated=dynamic:200/1s:by=org"},
		{"query_initiated=dynamic:12000/1m:window=10s", "query_initiated=dynamic:200/1s:window=10s"},
		{"*_failed=always,query_*=dynamic:0.5/s,*=never", "*_failed=always,query_*=dynamic:0.5/1s,*=never"},
		{"query_failed=1,query_*=0.1", "query_failed=always,query_*=ratio:0.1"},
		{"$pageview=0.5", "$pageview=ratio:0.5"},
		{"a = ratio : 0.5 : by = org", "a=ratio:0.5:by=org"},
		{"q_*_x=1,q_**=0.5", "q_*_x=always,q_**=ratio:0.5"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := sampling.ParseSpec(tc.spec)
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tc.spec, err)
			}
			if got := sampling.Format(s); got != tc.want {
				t.Errorf("ParseSpec(%q) = %s, want %s", tc.spec, got, tc.want)
			}
			// The canonical form parses back to itself.
			again, err := sampling.ParseSpec(tc.want)
			if err != nil || sampling.Format(again) != tc.want {
				t.Errorf("round trip of %s: %v, %v", tc.want, again, err)
			}
		})
	}
}

// TestParseSpecDecides checks that a parsed spec routes by name, first match
// wins, with the samplers it names.
func TestParseSpecDecides(t *testing.T) {
	s, err := sampling.ParseSpec("query_failed=1,query_*=0,*_step=burst:1/1h,*=0.5:by=org")
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, org string, wantKeep bool, wantRate float64) {
		t.Helper()
		keep, rate := s.Sample(tracker.Event{Name: name, UUID: uuidFor(0), Groups: map[string]string{"organization": org}})
		if keep != wantKeep || rate != wantRate {
			t.Errorf("%s/%s: keep=%v rate=%v, want %v %v", name, org, keep, rate, wantKeep, wantRate)
		}
	}
	check("query_failed", "o", true, 1)
	check("query_initiated", "o", false, 0)
	check("job_step", "o", true, 1)
	check("job_step", "o", false, 0) // the burst of 1 is used
	// The default ratio keys by organization: same org, same decision.
	first, _ := s.Sample(tracker.Event{Name: "other", UUID: uuidFor(1), Groups: map[string]string{"organization": "org_9"}})
	for i := range 20 {
		if k, _ := s.Sample(tracker.Event{Name: "other", UUID: uuidFor(uint64(i) << 40), Groups: map[string]string{"organization": "org_9"}}); k != first {
			t.Fatal("by=org default decided differently for the same organization")
		}
	}
}

type wantErr struct {
	index int   // 1-based rule index
	is    error // sentinel
	text  string
}

func TestParseSpecBad(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []wantErr
	}{
		{"query_initiated", []wantErr{{1, sampling.ErrSyntax, "want PATTERN=SAMPLER"}}},
		{"a=0.1,,b=1", []wantErr{{2, sampling.ErrSyntax, "empty rule"}}},
		{"a=0.1,", []wantErr{{2, sampling.ErrSyntax, "empty rule"}}},
		{"=0.1", []wantErr{{1, sampling.ErrBadPattern, "empty pattern"}}},
		{"a=", []wantErr{{1, sampling.ErrSyntax, "empty sampler"}}},
		{"a=1.5", []wantErr{{1, sampling.ErrBadRate, "1.5 is not in [0, 1]"}}},
		{"a=-0.1", []wantErr{{1, sampling.ErrBadRate, "not in [0, 1]"}}},
		{"a=NaN", []wantErr{{1, sampling.ErrBadRate, "not in [0, 1]"}}},
		{"a=0.5x", []wantErr{{1, sampling.ErrBadRate, "not a number"}}},
		{"a=ratio:2", []wantErr{{1, sampling.ErrBadRate, "2 is not in [0, 1]"}}},
		{"a=ratio", []wantErr{{1, sampling.ErrSyntax, "ratio needs an argument"}}},
		{"a=sometimes", []wantErr{{1, sampling.ErrUnknownKind, `"sometimes"`}}},
		{"a=always:by=org", []wantErr{{1, sampling.ErrUnknownOption, "takes no options"}}},
		{"a=ratio:0.1:by=org:by=uuid", []wantErr{{1, sampling.ErrDuplicateOption, "by given twice"}}},
		{"a=ratio:0.1:keys=5", []wantErr{{1, sampling.ErrUnknownOption, `"keys" for ratio`}}},
		{"a=ratio:0.1:by", []wantErr{{1, sampling.ErrSyntax, "want NAME=VALUE"}}},
		{"a=ratio:0.1:by=a.b", []wantErr{{1, sampling.ErrBadKey, `"a.b"`}}},
		{"a=ratio:0.1:by=prop.", []wantErr{{1, sampling.ErrBadKey, `"prop."`}}},
		{"a=rate:100/s:by=uuid", []wantErr{{1, sampling.ErrBadKey, "keys a ratio only"}}},
		{"a=rate:100", []wantErr{{1, sampling.ErrSyntax, "want N/DURATION"}}},
		{"a=rate:0/s", []wantErr{{1, sampling.ErrBadNumber, `"0"`}}},
		{"a=rate:1.5/s", []wantErr{{1, sampling.ErrBadNumber, `"1.5"`}}},
		{"a=rate:100/fortnight", []wantErr{{1, sampling.ErrBadDuration, `"fortnight"`}}},
		{"a=rate:1/99999999999h", []wantErr{{1, sampling.ErrBadDuration, `"99999999999h": want a duration from 1ns to 2562047h47m16.854775807s`}}},
		{"a=rate:100/-1s", []wantErr{{1, sampling.ErrBadDuration, "not positive"}}},
		{"a=rate:100/0s", []wantErr{{1, sampling.ErrBadDuration, "not positive"}}},
		{"a=rate:100/s:keys=0", []wantErr{{1, sampling.ErrBadNumber, "keys"}}},
		{"a=rate:1/s:headroom=0", []wantErr{{1, sampling.ErrBadRate, "headroom"}}},
		{"a=dynamic:1/s:weight=2", []wantErr{{1, sampling.ErrBadRate, "weight"}}},
		{"a=burst:50/1m:then=1.5", []wantErr{{1, sampling.ErrBadRate, "then="}}},
		{"a=burst:50/1m:then=ratio", []wantErr{{1, sampling.ErrBadRate, "then="}}},
		{"a=dynamic:0/s", []wantErr{{1, sampling.ErrBadNumber, "positive number"}}},
		{"a=dynamic:1e300/ns", []wantErr{{1, sampling.ErrBadNumber, "out of range"}}},
		{"a=dynamic:200/s:window=soon", []wantErr{{1, sampling.ErrBadDuration, "window="}}},
		{"a=0.1,a=0.2", []wantErr{{2, sampling.ErrDuplicate, "already used by rule 1"}}},
		{"*=1,a=0.2", []wantErr{{2, sampling.ErrUnreachable, `rule 1 "*"`}}},
		{"query_*=1,query_failed=0.2", []wantErr{{2, sampling.ErrUnreachable, `rule 1 "query_*"`}}},
		{"query_*=1,query_x*=0.2", []wantErr{{2, sampling.ErrUnreachable, `rule 1`}}},
		{"**=1,a=0.5", []wantErr{{2, sampling.ErrUnreachable, `rule 1 "**"`}}},
		{"a:b=1", []wantErr{{1, sampling.ErrBadPattern, "may not hold"}}},
		// All errors of a spec are reported together, in order, several per rule.
		{"a=2,b=rate:x/y:by=uuid:then=1,c=ratio:0.1,c=0.3", []wantErr{
			{1, sampling.ErrBadRate, "2 is not in"},
			{2, sampling.ErrUnknownOption, `"then" for rate`},
			{2, sampling.ErrBadKey, "keys a ratio only"},
			{2, sampling.ErrBadNumber, `"x"`},
			{4, sampling.ErrDuplicate, "rule 3"},
		}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := sampling.ParseSpec(tc.spec)
			if err == nil {
				t.Fatalf("ParseSpec(%q) = %v, want errors", tc.spec, s)
			}
			if s != nil {
				t.Errorf("ParseSpec(%q) returned a sampler with its error", tc.spec)
			}
			var merr *multierror.Error
			if !errors.As(err, &merr) {
				t.Fatalf("error %T is not a list", err)
			}
			if len(merr.Errors) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(merr.Errors), len(tc.want), err)
			}
			for i, w := range tc.want {
				var se *sampling.SpecError
				if !errors.As(merr.Errors[i], &se) {
					t.Fatalf("error %d is %T, not a *SpecError", i, merr.Errors[i])
				}
				msg := se.Error()
				if se.Index != w.index || !errors.Is(se, w.is) || !strings.Contains(msg, w.text) {
					t.Errorf("error %d = %q (rule %d), want rule %d, %v, containing %q", i, msg, se.Index, w.index, w.is, w.text)
				}
				// It names the rule by its text and where it starts.
				if !strings.HasPrefix(tc.spec[se.Offset:], se.Rule) || !strings.Contains(msg, fmt.Sprintf("%q", se.Rule)) {
					t.Errorf("error %d: rule %q at byte %d does not match the spec", i, se.Rule, se.Offset)
				}
				// errors.Is finds each cause through the joined error.
				if !errors.Is(err, w.is) {
					t.Errorf("errors.Is(err, %v) = false", w.is)
				}
			}
		})
	}
}

func TestParseSpecWithClockRejectsNil(t *testing.T) {
	if _, err := sampling.ParseSpecWithClock("a=rate:1/s", nil); err == nil {
		t.Error("a nil clock was accepted")
	}
	if _, err := sampling.ParseSpecWithClock("a=rate:1/s", func() time.Time { return time.Time{} }); err != nil {
		t.Error(err)
	}
}

// FuzzParseSpec checks that ParseSpec never panics, that every error it
// returns is a list of *SpecError naming a rule of the spec, and that a
// parsed spec's canonical form parses back to itself. Its seed corpus is in
// testdata/fuzz/FuzzParseSpec and runs with every go test.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"", "query_initiated=0.01,query_failed=1,*=1", "query_*=rate:100/s:by=org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := sampling.ParseSpec(spec)
		if err != nil {
			var merr *multierror.Error
			if !errors.As(err, &merr) || len(merr.Errors) == 0 {
				t.Fatalf("ParseSpec(%q): error %T is not a non-empty list", spec, err)
			}
			for _, e := range merr.Errors {
				var se *sampling.SpecError
				if !errors.As(e, &se) || se.Offset < 0 || se.Offset > len(spec) || !strings.HasPrefix(spec[se.Offset:], se.Rule) {
					t.Fatalf("ParseSpec(%q): %v does not name a rule of the spec", spec, e)
				}
			}
			return
		}
		canon := sampling.Format(s)
		again, err := sampling.ParseSpec(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, spec, err)
		}
		if got := sampling.Format(again); got != canon {
			t.Fatalf("canonical %q of %q parses to %q", canon, spec, got)
		}
		for _, name := range []string{"query_initiated", "query_failed", "job_step", "a", "b", "c"} {
			e := tracker.Event{Name: name, UUID: uuidFor(1), DistinctID: "u", Groups: map[string]string{"organization": "o"},
				Properties: map[string]any{"trace_id": "t", "n": 42}}
			if keep, rate := s.Sample(e); keep && (rate <= 0 || rate > 1) {
				t.Fatalf("%q kept %s at rate %v", canon, name, rate)
			}
		}
	})
}

// Each sampler a spec builds declares what it reads of the fields Capture
// fills in, so that Capture decides as early as it can: keyed by an
// organization or a distinct id it needs the identity, deciding per event
// (or starting a window) it needs the UUID's random key, and rules need
// what any of their samplers needs.
func TestSpecSamplersDeclareTheirInputs(t *testing.T) {
	const key, identity = tracker.InputKey, tracker.InputIdentity
	for spec, want := range map[string]tracker.SampleInput{
		"*=always":                                      0,
		"*=never":                                       0,
		"*=0.01":                                        key,
		"*=ratio:0.01:by=org":                           key | identity,
		"*=ratio:0.01:by=distinct_id":                   key | identity,
		"*=ratio:0.01:by=group.team":                    key | identity,
		"*=ratio:0.01:by=trace_id":                      key,
		"*=ratio:0.01:by=event":                         0,
		"*=rate:10/s":                                   key,
		"*=rate:10/s:by=org":                            key | identity,
		"*=dynamic:10/s:by=prop.user":                   key,
		"*=burst:5/s":                                   0,
		"*=burst:5/s:by=org":                            identity,
		"*=burst:5/s:then=0.1":                          key,
		"query_failed=1,query_*=never":                  0,
		"query_failed=1,query_*=0.01":                   key,
		"query_failed=1,query_*=0.01,*=rate:1/s:by=org": key | identity,
	} {
		s, err := sampling.ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := tracker.InputsOf(s); got != want {
			t.Errorf("%s: inputs %d, want %d", spec, got, want)
		}
	}
}
