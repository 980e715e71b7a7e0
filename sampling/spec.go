package sampling

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/go-multierror"
	"github.com/multitrack/multitrack/tracker"
)

// Errors of ParseSpec and of the constructors; every error they return wraps
// one of these, so errors.Is finds each cause of a spec's joined errors.
var (
	ErrSyntax          = errors.New("malformed")
	ErrBadPattern      = errors.New("bad pattern")
	ErrBadSampler      = errors.New("bad sampler")
	ErrUnknownKind     = errors.New("unknown sampler kind")
	ErrBadRate         = errors.New("rate out of range")
	ErrBadNumber       = errors.New("bad number")
	ErrBadDuration     = errors.New("bad duration")
	ErrBadKey          = errors.New("bad key")
	ErrUnknownOption   = errors.New("unknown option")
	ErrDuplicateOption = errors.New("duplicate option")
	ErrDuplicate       = errors.New("duplicate pattern")
	ErrUnreachable     = errors.New("unreachable rule")
)

// SpecError is one error of a sampling spec: it names the rule (its 1-based
// index, its byte offset in the spec and its text) and what is wrong.
type SpecError struct {
	Index  int    // 1-based index of the rule
	Offset int    // byte offset of the rule in the spec
	Rule   string // the rule's text
	Err    error  // what is wrong; wraps one of the Err variables
}

// Error names the rule and what is wrong with it.
func (e *SpecError) Error() string {
	return fmt.Sprintf("sampling spec: rule %d %q (byte %d): %v", e.Index, e.Rule, e.Offset, e.Err)
}

// Unwrap returns what is wrong.
func (e *SpecError) Unwrap() error { return e.Err }

// ParseSpec parses a sampling spec (MULTITRACK_SAMPLE; the grammar is in the
// package doc) into a sampler. An empty spec keeps every event. All errors
// of the spec are returned together, each a *SpecError.
func ParseSpec(spec string) (tracker.Sampler, error) {
	return ParseSpecWithClock(spec, time.Now)
}

// ParseSpecWithClock is ParseSpec with the stateful samplers' clock replaced
// by now, for tests that control time.
func ParseSpecWithClock(spec string, now func() time.Time) (tracker.Sampler, error) {
	if now == nil {
		return nil, errors.New("sampling: ParseSpecWithClock: nil clock")
	}
	if strings.TrimSpace(spec) == "" {
		return Always{}, nil
	}
	var (
		errs  *multierror.Error
		rules []Rule
		texts []string
		offs  []int
	)
	off := 0
	for raw := range strings.SplitSeq(spec, ",") {
		lead := len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace))
		text := strings.TrimSpace(raw)
		rule, es := parseRule(text, now)
		for _, err := range es {
			errs = multierror.Append(errs, &SpecError{len(rules) + 1, off + lead, text, err})
		}
		rules, texts, offs = append(rules, rule), append(texts, text), append(offs, off+lead)
		off += len(raw) + 1
	}
	// Check the patterns against each other; a rule without "=" has none.
	r := &Rules{rules: rules, exact: map[string]int{}}
	for i, rule := range rules {
		if !strings.Contains(texts[i], "=") {
			continue
		}
		if err := r.add(i, rule); err != nil {
			errs = multierror.Append(errs, &SpecError{i + 1, offs[i], texts[i], err})
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	def := tracker.Sampler(Always{})
	if last := len(rules) - 1; rules[last].Pattern == "*" {
		def, rules = rules[last].Sampler, rules[:last]
	}
	if len(rules) == 0 {
		return def, nil
	}
	return NewRules(def, rules...)
}

// Format returns s as a spec that ParseSpec reads back to the same sampler:
// "" for Always, the rules of a Rules, "*=SAMPLER" for any other. A sampler
// of another package is named by its String method, or its type.
func Format(s tracker.Sampler) string {
	switch s := s.(type) {
	case Always:
		return ""
	case *Rules:
		return s.String()
	}
	return "*=" + samplerString(s)
}

// parseRule parses "PATTERN=SAMPLER". A rule whose sampler is bad gets Never,
// so that its pattern is still checked against the others.
func parseRule(text string, now func() time.Time) (Rule, []error) {
	pattern, sampler, ok := strings.Cut(text, "=")
	rule := Rule{Pattern: strings.TrimSpace(pattern), Sampler: Never{}}
	if text == "" {
		return rule, []error{fmt.Errorf("%w: empty rule (a stray ',')", ErrSyntax)}
	}
	if !ok {
		return rule, []error{fmt.Errorf("%w: want PATTERN=SAMPLER, e.g. query_*=0.01", ErrSyntax)}
	}
	s, errs := parseSampler(strings.TrimSpace(sampler), now)
	if len(errs) == 0 {
		rule.Sampler = s
	}
	return rule, errs
}

// kinds lists the sampler kinds of a spec and the options each takes.
var kinds = map[string][]string{
	"always":  nil,
	"never":   nil,
	"ratio":   {"by"},
	"rate":    {"by", "keys", "headroom"},
	"burst":   {"by", "keys", "then"},
	"dynamic": {"by", "keys", "window", "weight"},
}

// parseSampler parses "KIND[:ARG][:OPT=VALUE]..." or a bare probability.
func parseSampler(text string, now func() time.Time) (tracker.Sampler, []error) {
	fields := strings.Split(text, ":")
	kind, args := strings.TrimSpace(fields[0]), fields[1:]
	if kind == "" {
		return nil, []error{fmt.Errorf("%w: empty sampler after '='", ErrSyntax)}
	}
	bare := false
	if _, err := strconv.ParseFloat(kind, 64); err == nil || kind[0] == '.' || kind[0] == '-' || kind[0] >= '0' && kind[0] <= '9' {
		bare, args, kind = true, append([]string{kind}, args...), "ratio"
	}
	names, known := kinds[kind]
	if !known {
		return nil, []error{fmt.Errorf("%w %q: want a probability or one of always, never, ratio, rate, burst, dynamic", ErrUnknownKind, kind)}
	}
	var arg string
	if kind != "always" && kind != "never" {
		if len(args) == 0 || strings.Contains(args[0], "=") {
			return nil, []error{fmt.Errorf("%w: %s needs an argument, e.g. %s", ErrSyntax, kind, kindExample[kind])}
		}
		arg, args = strings.TrimSpace(args[0]), args[1:]
	}
	opts, errs := splitOptions(kind, names, args)
	o, oerrs := options(kind, opts, now)
	errs = append(errs, oerrs...)
	s, err := build(kind, arg, bare, o)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// splitOptions reads NAME=VALUE options, each one of names, once.
func splitOptions(kind string, names, args []string) (map[string]string, []error) {
	opts := map[string]string{}
	var errs []error
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%w: option %q: want NAME=VALUE", ErrSyntax, a))
		case !slices.Contains(names, name):
			errs = append(errs, fmt.Errorf("%w %q for %s: %s", ErrUnknownOption, name, kind, takes(names)))
		case hasKey(opts, name):
			errs = append(errs, fmt.Errorf("%w: %s given twice", ErrDuplicateOption, name))
		default:
			opts[name] = value
		}
	}
	return opts, errs
}

// options turns a spec's options into the constructors' Options.
func options(kind string, opts map[string]string, now func() time.Time) ([]Option, []error) {
	var o []Option
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if kind == "rate" || kind == "burst" || kind == "dynamic" {
		o = append(o, WithClock(now))
	}
	if v, ok := opts["by"]; ok {
		k, ok := parseKey(v)
		switch {
		case !ok:
			fail("%w %q: want uuid, distinct_id, org, event, group.TYPE, prop.NAME or a property name", ErrBadKey, v)
		case k == KeyNone && kind != "ratio":
			fail("%w: by=%s keys a ratio only; %s keeps one state for all events without by=", ErrBadKey, v, kind)
		default:
			o = append(o, By(k))
		}
	}
	if v, ok := opts["keys"]; ok {
		if n, err := strconv.ParseInt(v, 10, 32); err != nil || n <= 0 {
			fail("%w: keys=%q: want a positive integer", ErrBadNumber, v)
		} else {
			o = append(o, WithMaxKeys(int(n)))
		}
	}
	if v, ok := opts["window"]; ok {
		if d, err := parseDuration(v); err != nil {
			fail("window=%q: %w", v, err)
		} else {
			o = append(o, WithWindow(d))
		}
	}
	for name, opt := range map[string]func(float64) Option{"headroom": WithHeadroom, "weight": WithEMAWeight} {
		if v, ok := opts[name]; ok {
			if f, err := parseProbability(v); err != nil || f == 0 {
				fail("%w: %s=%q: want a number in (0, 1]", ErrBadRate, name, v)
			} else {
				o = append(o, opt(f))
			}
		}
	}
	if v, ok := opts["then"]; ok {
		if s, err := parseThen(v); err != nil {
			fail("then=%q: %w", v, err)
		} else {
			o = append(o, Then(s))
		}
	}
	return o, errs
}

// build makes a sampler of kind from its argument and options. A bad
// argument is an error of its own, reported with the options' errors.
func build(kind, arg string, bare bool, o []Option) (tracker.Sampler, error) {
	switch kind {
	case "always":
		return Always{}, nil
	case "never":
		return Never{}, nil
	case "ratio":
		p, err := parseProbability(arg)
		if err != nil {
			return nil, err
		}
		return bareRatio(p, bare && len(o) == 0, o)
	case "rate", "burst":
		n, d, err := parsePerDuration(arg)
		if err != nil {
			return nil, err
		}
		if kind == "rate" {
			return NewRateLimit(n, d, o...)
		}
		return NewBurst(n, d, o...)
	}
	f, err := parsePerSecond(arg)
	if err != nil {
		return nil, err
	}
	return NewDynamic(f, o...)
}

var kindExample = map[string]string{
	"ratio":   "ratio:0.01",
	"rate":    "rate:100/s",
	"burst":   "burst:50/1m",
	"dynamic": "dynamic:200/s",
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func takes(names []string) string {
	if len(names) == 0 {
		return "it takes no options"
	}
	return "it takes " + strings.Join(names, ", ")
}

// bareRatio returns Always for 1 and Never for 0 when the spec wrote a bare
// probability, a Ratio otherwise.
func bareRatio(p float64, bare bool, o []Option) (tracker.Sampler, error) {
	switch {
	case bare && p == 1:
		return Always{}, nil
	case bare && p == 0:
		return Never{}, nil
	}
	return NewRatio(p, o...)
}

// parseProbability reads a probability in [0, 1].
func parseProbability(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number", ErrBadRate, s)
	}
	if math.IsNaN(p) || p < 0 || p > 1 {
		return 0, fmt.Errorf("%w: %s is not in [0, 1]", ErrBadRate, s)
	}
	return p, nil
}

// parseThen reads a Burst fallback: a probability, always or never.
func parseThen(s string) (tracker.Sampler, error) {
	switch s {
	case "always":
		return Always{}, nil
	case "never":
		return Never{}, nil
	}
	p, err := parseProbability(s)
	if err != nil {
		return nil, err
	}
	return bareRatio(p, true, nil)
}

// parseDuration reads a positive duration: a Go duration ("1m", "500ms") or
// a bare unit ("s", "m", "h" meaning one of it).
func parseDuration(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "nsuµmh") == "" {
		s = "1" + s
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		why := "want"
		if err == nil {
			why = "not positive: want"
		}
		return 0, fmt.Errorf("%w %q: %s a duration from 1ns to %v (about 292 years), e.g. s, 10s, 1m, 500ms", ErrBadDuration, s, why, time.Duration(math.MaxInt64))
	}
	return d, nil
}

// parsePerDuration reads "N/DURATION" with N a positive integer.
func parsePerDuration(s string) (int64, time.Duration, error) {
	num, dur, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%w: %q: want N/DURATION, e.g. 100/s", ErrSyntax, s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxUint32 {
		return 0, 0, fmt.Errorf("%w: %q: want an integer in [1, %d]", ErrBadNumber, num, uint32(math.MaxUint32))
	}
	d, err := parseDuration(dur)
	return n, d, err
}

// parsePerSecond reads "N/DURATION" with N a positive number, as a rate per
// second.
func parsePerSecond(s string) (float64, error) {
	num, dur, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("%w: %q: want N/DURATION, e.g. 200/s", ErrSyntax, s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return 0, fmt.Errorf("%w: %q: want a positive number", ErrBadNumber, num)
	}
	d, err := parseDuration(dur)
	if err != nil {
		return 0, err
	}
	if r := f / d.Seconds(); !math.IsInf(r, 0) && r > 0 {
		return r, nil
	}
	return 0, fmt.Errorf("%w: %s: out of range as a rate per second", ErrBadNumber, s)
}
