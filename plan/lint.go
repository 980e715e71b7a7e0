package plan

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/multitrack/multitrack/eventline"
	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/tracker"
)

// LintResult counts what Lint found.
type LintResult struct {
	Events     int               // events read
	Violations tracker.PlanStats // their violations, by kind
	BadLines   int               // lines that are not events
	Warnings   int               // lines skipped with a warning (a torn last line)
}

// Add adds o's counts to r.
func (r *LintResult) Add(o LintResult) {
	r.Events += o.Events
	addStats(&r.Violations, o.Violations)
	r.BadLines += o.BadLines
	r.Warnings += o.Warnings
}

// Failed reports whether a violation or a bad line was found.
func (r LintResult) Failed() bool { return r.Violations.Total() > 0 || r.BadLines > 0 }

// String summarizes r: "120 events, 3 violations (2 wrong type, 1
// unplanned event), 1 bad line".
func (r LintResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s, ", r.Events, plural.Of(r.Events, "event", "events"))
	n := int(r.Violations.Total())
	fmt.Fprintf(&b, "%d %s", n, plural.Of(n, "violation", "violations"))
	if n > 0 {
		var kinds []string
		for _, k := range Kinds {
			if c := k.Count(r.Violations); c > 0 {
				kinds = append(kinds, fmt.Sprintf("%d %s", c, k))
			}
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(kinds, ", "))
	}
	if r.BadLines > 0 {
		fmt.Fprintf(&b, ", %d bad %s", r.BadLines, plural.Of(r.BadLines, "line", "lines"))
	}
	if r.Warnings > 0 {
		fmt.Fprintf(&b, ", %d %s", r.Warnings, plural.Of(r.Warnings, "warning", "warnings"))
	}
	return b.String()
}

// Lint checks the event lines in r (a file sink's output, a dead-letter
// file) against the plan and writes one line to w per problem:
// "name:line: event: problem" for a violation, "name:line: problem" for a
// line that is not an event, "name:line: warning: problem" for a torn last
// line, which is skipped. Property values are never written. The error is
// a failure to read r or to write w; what was read until then is counted.
func (c *Checker) Lint(w io.Writer, r io.Reader, name string) (LintResult, error) {
	var res LintResult
	var werr error
	printf := func(format string, args ...any) {
		if werr == nil {
			_, werr = fmt.Fprintf(w, format, args...)
		}
	}
	var vs []Violation // reused from event to event
	warnings, err := readEvents(r, name, func(line int, e tracker.Event, bad error) {
		if bad != nil {
			res.BadLines++
			printf("%v\n", bad)
			return
		}
		res.Events++
		vs = vs[:0]
		addStats(&res.Violations, c.check(e.Name, e.Properties, nil, &vs))
		for _, v := range vs {
			printf("%s:%d: %s: %s\n", name, line, oneLine(e.Name), v)
		}
	})
	for _, warn := range warnings {
		res.Warnings++
		printf("%s:%d: warning: %v\n", name, warn.Line, warn.Err)
	}
	return res, errors.Join(err, werr)
}

// readEvents calls f for each event line of r, or each line that is not
// one (bad), and returns the warnings and a read error. It is the one place
// that knows the event-line reader.
func readEvents(r io.Reader, name string, f func(line int, e tracker.Event, bad error)) ([]*eventline.LineError, error) {
	er := eventline.NewReader(r, name)
	for {
		e, err := er.Next()
		switch {
		case err == nil:
			f(er.Line(), e, nil)
		case err == io.EOF:
			return er.Warnings(), nil
		case er.Err() != nil: // the input could not be read: final
			return er.Warnings(), err
		default: // a bad line
			f(er.Line(), tracker.Event{}, err)
		}
	}
}
