package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"unicode/utf8"

	"github.com/multitrack/multitrack/internal/plural"
	"github.com/multitrack/multitrack/internal/secret"
)

// Describe returns the configuration that FromLookup would build from
// lookup, as text for people (the `multitrack config` command): the sinks,
// then every variable read, with its value, or its default when unset, and
// the value of a secret shown as [redacted]; then every warning (variables
// that have no effect, see Env.OnWarning) and every problem. The error is
// the one FromLookup would return: warnings are not in it.
//
// To check the sinks' settings completely, Describe builds the sinks and the
// tracker as FromLookup does and closes them at once (within CloseTimeout):
// a file sink creates its file.
func Describe(lookup func(string) (string, bool)) (string, error) {
	return Env{Lookup: lookup}.Describe()
}

// Describe is the package-level Describe over e's variables.
func (e Env) Describe() (string, error) {
	l := e.load()
	t, err := l.tracker(nil)
	if t != nil {
		ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
		defer cancel()
		if cerr := t.Close(ctx); cerr != nil {
			l.report("", fmt.Errorf("closing the tracker built to check the configuration: %w", cerr))
			err = l.err()
		}
	}
	return l.describe(err), err
}

func (l *loader) describe(err error) string {
	var b strings.Builder
	sinks := strings.Join(l.sinkNames, ", ")
	if sinks == "" {
		sinks = "none (events are counted and discarded)"
	}
	fmt.Fprintf(&b, "sinks: %s\n", sinks)
	if l.planPath != "" {
		fmt.Fprintf(&b, "tracking plan: %s, %d %s, enforced in mode %s\n", l.planPath, l.planEvents, plural.Of(l.planEvents, "event", "events"), l.planMode)
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 8, 2, ' ', 0)
	section := "\x00"
	for _, r := range l.describedVars() {
		if r.sink != section {
			section = r.sink
			if section == "" {
				fmt.Fprintln(tw, "\nvariable\tvalue\t")
			} else {
				fmt.Fprintf(tw, "\nsink %s:\n", section)
			}
		}
		value, origin := r.def, "(default)"
		switch {
		case r.set && r.secret:
			value, origin = secret.Marker, ""
		case r.set:
			value, origin = redactSecrets(r.value, l.secrets), ""
		case r.def == "":
			value, origin = "", "(unset)"
		}
		if r.name == varProperties && r.set {
			value = redactProperties(value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, clip(value), origin)
	}
	tw.Flush()
	for line := range strings.Lines(table.String()) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	if len(l.warnings) > 0 {
		ws := capProblems(dedupeProblems(l.warnings))
		n := countProblems(ws)
		fmt.Fprintf(&b, "\n%d %s (variables that have no effect):\n", n, plural.Of(n, "warning", "warnings"))
		for _, w := range ws {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	if err != nil {
		errs := capProblems(dedupeProblems(l.scrubbed()))
		n := countProblems(errs)
		fmt.Fprintf(&b, "\n%d %s:\n", n, plural.Of(n, "problem", "problems"))
		for _, e := range errs {
			fmt.Fprintf(&b, "  - %s\n", strings.ReplaceAll(e.Error(), "\n", "\n    "))
		}
	}
	// A secret pasted into a variable that is not secret is cut out too.
	return redactSecrets(b.String(), l.secrets)
}

// describedVars returns the variables read: the registry's own in the
// order of globalVars, then each sink's in the order its factory read them.
func (l *loader) describedVars() []varRecord {
	rank := func(r varRecord) int {
		if r.sink != "" {
			return len(globalVars)
		}
		for i, g := range globalVars {
			if g.name == r.name {
				return i
			}
		}
		return len(globalVars) - 1
	}
	vars := slices.Clone(l.vars)
	slices.SortStableFunc(vars, func(a, b varRecord) int { return rank(a) - rank(b) })
	return vars
}

// redactProperties shows MULTITRACK_PROPERTIES with the values of
// secret-looking keys replaced, by the rule for variables, which errs on
// the side of hiding (FromLookup refuses the keys that the tracker would
// redact). A value that does not parse is not shown at all: where a
// secret's value starts cannot be known.
func redactProperties(v string) string {
	items, _, err := splitEscaped(v, ',')
	if err != nil {
		return secret.Marker + " (does not parse)"
	}
	for i, item := range items {
		kv, _, _ := splitEscaped(item, '=')
		key := strings.TrimSpace(kv[0])
		if len(kv) < 2 {
			items[i] = secret.Marker // not key=value: it may be a value alone
		} else if secret.Variable(unescape(key)) {
			items[i] = kv[0] + "=" + secret.Marker
		}
	}
	return strings.Join(items, ",")
}

// maxShown is the most bytes of a value Describe shows.
const maxShown = 100

// clip cuts a long value to maxShown bytes (on a character boundary),
// saying how long it was.
func clip(v string) string {
	if len(v) <= maxShown {
		return v
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", v[:cut], len(v))
}
