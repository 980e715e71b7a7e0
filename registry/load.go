package registry

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/internal/deadletter"
	"github.com/multitrack/multitrack/internal/secret"
	"github.com/multitrack/multitrack/internal/terminal"
	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/sampling"
	"github.com/multitrack/multitrack/tracker"
)

// loadLogger reads MULTITRACK_LOG_LEVEL first, so that sinks get the logger.
func (l *loader) loadLogger() {
	v, ok := l.read(varLogLevel, "", "off", false)
	if !ok {
		return
	}
	levels := map[string]zerolog.Level{
		"off": zerolog.Disabled, "error": zerolog.ErrorLevel, "warn": zerolog.WarnLevel,
		"info": zerolog.InfoLevel, "debug": zerolog.DebugLevel,
	}
	lvl, known := levels[strings.ToLower(v)]
	if !known {
		l.invalid(varLogLevel, "", v, "off, error, warn, info or debug")
		return
	}
	if lvl == zerolog.Disabled {
		return
	}
	out := l.stderr
	if terminal.Is(out) { // readable on a terminal; JSON lines elsewhere
		getenv := func(name string) string { v, _ := l.lookup(name); return v }
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05", NoColor: !terminal.ColorAllowed(getenv)}
	}
	l.logger = zerolog.New(out).Level(lvl).With().Timestamp().Logger()
	l.opts = append(l.opts, tracker.WithLogger(l.logger))
}

// loadSinkNames reads MULTITRACK_SINKS, or picks the default.
func (l *loader) loadSinkNames(fallback string) {
	_, hasKey := l.read(varAPIKey, "", "", true)
	def, why := "none", "none: POSTHOG_API_KEY is not set"
	switch {
	case hasKey:
		def, why = "posthog", "posthog: POSTHOG_API_KEY is set"
	case strings.TrimSpace(fallback) != "":
		def, why = fallback, fallback
	}
	v, ok := l.read(varSinks, "", why, false)
	if !ok {
		v = def
	}
	registered := Sinks()
	seen := make(map[string]int)
	var order, names []string
	for item := range strings.SplitSeq(v, ",") {
		name := strings.ToLower(strings.TrimSpace(item))
		if name == "" {
			continue // "stdout," is forgiven
		}
		if seen[name]++; seen[name] == 1 {
			order = append(order, name)
		}
	}
	for _, name := range order {
		switch {
		case seen[name] > 1:
			times := fmt.Sprintf("%d times", seen[name])
			if seen[name] == 2 {
				times = "twice"
			}
			l.report("", &VarError{Var: varSinks, Err: fmt.Errorf("%w: %s is listed %s: want each sink once", ErrInvalid, quote(name), times)})
		}
		switch {
		case name == None:
		case !slices.Contains(registered, name):
			hint := ""
			if s := closest(name, registered, nameDistance); s != "" {
				hint = "did you mean " + s + "? "
			}
			l.report("", &VarError{Var: varSinks, Err: fmt.Errorf("%w %s: %swant a comma list of %s, or none", ErrUnknownSink, quote(name), hint, strings.Join(registered, ", "))})
		default:
			names = append(names, name)
		}
	}
	if seen[None] > 0 && len(seen) > 1 {
		l.invalid(varSinks, "", v, "none alone, or a list of sinks without none")
		names = nil
	}
	if len(seen) == 0 { // "," names nothing: a mistake, not a quiet "none"
		l.invalid(varSinks, "", v, fmt.Sprintf("a comma list of %s, or none", strings.Join(registered, ", ")))
	}
	l.sinkNames = names
}

// loadSampler reads MULTITRACK_SAMPLE, reporting each bad rule on its own.
func (l *loader) loadSampler() {
	v, ok := l.read(varSample, "", "keep all", false)
	if !ok {
		return
	}
	s, err := sampling.ParseSpec(v)
	if err != nil {
		for _, e := range splitErrors(err) {
			l.report("", &VarError{Var: varSample, Err: fmt.Errorf("%w: %w", ErrInvalid, e)})
		}
		return
	}
	l.opts = append(l.opts, tracker.WithSampler(s))
}

// splitErrors returns the errors of a list (go-multierror, errors.Join), or
// err alone.
func splitErrors(err error) []error {
	var me *multierror.Error
	if errors.As(err, &me) {
		return me.Errors
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// loadQueue reads the queue size and overflow policy of every sink built from
// the environment.
func (l *loader) loadQueue() {
	if n := l.intVar(varQueueSize, "", tracker.DefaultQueueSize, 1, tracker.QueueSizeLimit); n != tracker.DefaultQueueSize {
		l.sinkOpts = append(l.sinkOpts, tracker.WithQueueSize(n))
	}
	v, ok := l.read(varOverflow, "", tracker.DropNewest.String(), false)
	if !ok {
		return
	}
	o, err := tracker.ParseOverflow(v)
	if err != nil {
		l.invalid(varOverflow, "", v, "drop_newest, drop_oldest or block")
		return
	}
	l.sinkOpts = append(l.sinkOpts, tracker.WithOverflow(o))
}

func (l *loader) loadDeadLetter() {
	path, ok := l.read(varDeadLetter, "", "none", false)
	if !ok {
		return
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		l.invalid(varDeadLetter, "", path, "a file path, not a directory")
		return
	}
	if err := deadletter.Check(path); err != nil {
		l.report("", &VarError{Var: varDeadLetter, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
		return
	}
	l.opts = append(l.opts, tracker.WithDeadLetter(path))
}

func (l *loader) loadProperties() {
	v, ok := l.read(varProperties, "", "none", false)
	if !ok {
		return
	}
	props, errs := parseProperties(v, l.lead(varProperties))
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if secret.Default().Match(k) {
			errs = append(errs, fmt.Errorf("property %q: the key looks secret and would be redacted from every event", k))
		}
	}
	if len(errs) == 0 {
		l.opts = append(l.opts, tracker.WithProperties(props))
	}
	for _, err := range errs {
		l.report("", &VarError{Var: varProperties, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
	}
}

func (l *loader) loadIdentity() {
	if id, ok := l.read(varFallbackID, "", tracker.DefaultFallbackDistinctID, false); ok {
		l.opts = append(l.opts, tracker.WithFallbackDistinctID(id))
	}
	if n := l.sizeVar(varMaxEvent, "", tracker.DefaultMaxEventSize, 1, tracker.MaxEventSizeLimit); n != tracker.DefaultMaxEventSize {
		l.opts = append(l.opts, tracker.WithMaxEventSize(int(n)))
	}
}

// loadPlan loads the tracking plan MULTITRACK_PLAN_PATH names, whose
// problems are reported with their lines, and enforces it in
// MULTITRACK_PLAN_MODE.
func (l *loader) loadPlan() {
	text, modeSet := l.read(varPlanMode, "", "warn", false)
	mode, err := tracker.ParsePlanMode(text)
	if err != nil {
		l.invalid(varPlanMode, "", text, "warn, strip or drop")
	}
	path, ok := l.read(varPlanPath, "", "none", false)
	if !ok {
		if modeSet {
			l.report("", &VarError{Var: varPlanMode, Err: fmt.Errorf("%w: set without %s", ErrInvalid, varPlanPath)})
		}
		return
	}
	c, err := plan.Load(path)
	var bad *plan.Error
	switch {
	case errors.As(err, &bad):
		l.report("", &VarError{Var: varPlanPath, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
		return
	case err != nil:
		l.report("", &VarError{Var: varPlanPath, Err: fmt.Errorf("%w: want a readable tracking-plan file: %w", ErrInvalid, err)})
		return
	}
	l.planPath, l.planMode, l.planEvents = path, mode, len(c.Plan().Events)
	l.opts = append(l.opts, tracker.WithPlan(c, mode))
}

// buildSinks runs the factory of every selected sink, in order.
func (l *loader) buildSinks() {
	fs := snapshot()
	for _, name := range l.sinkNames {
		f := fs[name]
		if f == nil { // unregistered since loadSinkNames: impossible, but not a panic
			l.report("", &VarError{Var: varSinks, Err: fmt.Errorf("%w %s", ErrUnknownSink, quote(name))})
			continue
		}
		s, err := l.runFactory(name, f)
		var settings *settingsError
		switch {
		case errors.As(err, &settings) && settings.sink == name:
			// Already recorded, problem by problem.
		case err != nil:
			l.report(name, &SinkError{Sink: name, Err: err})
		case s == nil:
			l.report(name, &SinkError{Sink: name, Err: errors.New("factory returned a nil sink and no error")})
		default:
			l.sinks = append(l.sinks, builtSink{name: name, sink: s})
		}
	}
}

// runFactory calls f, turning a panic into an error so that the sinks
// already built are still closed.
func (l *loader) runFactory(name string, f Factory) (s tracker.Sink, err error) {
	defer func() {
		if p := recover(); p != nil {
			l.logger.Error().Str("sink", name).Bytes("stack", debug.Stack()).Msg("multitrack: sink factory panicked")
			s, err = nil, fmt.Errorf("factory panicked: %v", p)
		}
	}()
	return f(Config{l: l, name: name})
}
