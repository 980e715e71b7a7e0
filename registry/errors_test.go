package registry_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/tracker"
)

func init() {
	// twice reports one problem three times, as a factory reading a
	// setting in several places might.
	registry.Register("twice", func(cfg registry.Config) (tracker.Sink, error) {
		for range 3 {
			cfg.Invalid(cfg.Var("MODE"), errors.New("want fast or safe"))
		}
		return nil, cfg.Err()
	})
}

// sinksLookup sets MULTITRACK_SINKS alone.
func sinksLookup(v string) func(string) (string, bool) {
	return func(k string) (string, bool) { return v, k == "MULTITRACK_SINKS" }
}

// longList joins names made by name(i) with commas up to about 105 KB.
func longList(name func(i int) string) string {
	var b strings.Builder
	for i := 0; b.Len() < 105_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name(i))
	}
	return b.String()
}

// A 105 KB MULTITRACK_SINKS once gave a 3.3 MB error of 15,000 lines.
func TestProblemsAreDeduplicatedAndCapped(t *testing.T) {
	t.Run("one sink listed 15000 times", func(t *testing.T) {
		v := longList(func(int) string { return "stdout" })
		_, err := registry.FromLookup(sinksLookup(v))
		want := fmt.Sprintf(`multitrack configuration: MULTITRACK_SINKS: invalid value: "stdout" is listed %d times: want each sink once`, strings.Count(v, ",")+1)
		if err == nil || err.Error() != want {
			t.Fatalf("error (%d bytes):\n%.2000v\nwant:\n%s", len(fmt.Sprint(err)), err, want)
		}
	})

	t.Run("thousands of unknown sinks", func(t *testing.T) {
		v := longList(func(i int) string { return fmt.Sprintf("sink%d", i) })
		n := strings.Count(v, ",") + 1
		_, err := registry.FromLookup(sinksLookup(v))
		if !errors.Is(err, registry.ErrUnknownSink) {
			t.Fatalf("error %.500v, want ErrUnknownSink", err)
		}
		msg := err.Error()
		lines := strings.Split(msg, "\n")
		// Before: 11,612 lines, 1.2 MB. Each line names the registered sinks,
		// more of them with -count > 1: the bound is loose.
		if len(lines) != 1+registry.MaxProblems+1 || len(msg) > 32<<10 {
			t.Errorf("%d lines, %d bytes; want %d lines, a few KB:\n%.3000s", len(lines), len(msg), registry.MaxProblems+2, msg)
		}
		if want := fmt.Sprintf("multitrack configuration: %d problems:", n); lines[0] != want {
			t.Errorf("first line %q, want %q", lines[0], want)
		}
		if want := fmt.Sprintf("  - and %d more", n-registry.MaxProblems); lines[len(lines)-1] != want {
			t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
		}
		// The problems beyond the 20th are still in the error.
		ps := problems(t, err)
		more, ok := ps[len(ps)-1].(interface{ Unwrap() []error })
		if !ok || len(more.Unwrap()) != n-registry.MaxProblems {
			t.Fatalf("the last problem %T does not hold the %d others", ps[len(ps)-1], n-registry.MaxProblems)
		}
		var ve *registry.VarError
		if last := more.Unwrap()[n-registry.MaxProblems-1]; !errors.As(last, &ve) || !strings.Contains(last.Error(), fmt.Sprintf(`"sink%d"`, n-1)) {
			t.Errorf("the last problem kept is %v", last)
		}

		text, derr := registry.Describe(sinksLookup(v))
		_, listed, _ := strings.Cut(text, fmt.Sprintf("\n%d problems:\n", n))
		if derr == nil || len(text) > 32<<10 || strings.Count(listed, "\n") != registry.MaxProblems+1 || !strings.HasSuffix(listed, fmt.Sprintf("\n  - and %d more\n", n-registry.MaxProblems)) {
			t.Errorf("Describe gave %d bytes:\n%.3000s", len(text), text)
		}
	})

	t.Run("identical problems from a factory", func(t *testing.T) {
		_, err := registry.FromLookup(sinksLookup("twice"))
		want := "multitrack configuration: MULTITRACK_TWICE_MODE: invalid value: want fast or safe (3 times)"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %s", err, want)
		}
		var ve *registry.VarError
		if !errors.As(err, &ve) || ve.Var != "MULTITRACK_TWICE_MODE" || !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("the merged problem no longer matches its VarError and ErrInvalid: %v", err)
		}
	})
}
