package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	secretpkg "github.com/multitrack/multitrack/internal/secret"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/tracker"
)

const envPrefix = "MULTITRACK_"

// The variables the registry reads itself; each sink reads its own.
const (
	varSinks      = "MULTITRACK_SINKS"
	varSample     = "MULTITRACK_SAMPLE"
	varQueueSize  = "MULTITRACK_QUEUE_SIZE"
	varOverflow   = "MULTITRACK_OVERFLOW"
	varDeadLetter = "MULTITRACK_DEAD_LETTER_PATH"
	varProperties = "MULTITRACK_PROPERTIES"
	varFallbackID = "MULTITRACK_FALLBACK_DISTINCT_ID"
	varMaxEvent   = "MULTITRACK_MAX_EVENT_SIZE"
	varLogLevel   = "MULTITRACK_LOG_LEVEL"
	varPlanPath   = "MULTITRACK_PLAN_PATH"
	varPlanMode   = "MULTITRACK_PLAN_MODE"
	varAPIKey     = "POSTHOG_API_KEY"
	varHost       = "POSTHOG_HOST"
)

// globalVars are the registry's own variables, in the order Describe shows
// them; their MULTITRACK_ names are reserved against sink names.
var globalVars = []struct{ name string }{
	{varSinks}, {varAPIKey}, {varSample}, {varQueueSize}, {varOverflow}, {varDeadLetter},
	{varProperties}, {varFallbackID}, {varMaxEvent}, {varLogLevel},
	{varPlanPath}, {varPlanMode},
}

// CloseTimeout bounds how long FromLookup waits for the sinks it already
// built to close when the configuration fails, and Describe for the sinks
// it built to check them.
const CloseTimeout = 5 * time.Second

// Env is where a configuration comes from. The zero Env reads the process
// environment and writes to the process's standard output and error.
type Env struct {
	// Lookup returns a variable's value and whether it is set, as
	// os.LookupEnv (the default when nil).
	Lookup func(name string) (string, bool)
	// Stdout is where the stdout sink (and any sink that prints, through
	// Config.Stdout) writes; os.Stdout when nil.
	Stdout io.Writer
	// Stderr is where the tracker's diagnostics go when MULTITRACK_LOG_LEVEL
	// is not off; os.Stderr when nil.
	Stderr io.Writer
	// DefaultSinks is the comma list of sinks used when MULTITRACK_SINKS is
	// not set and POSTHOG_API_KEY is not set either: empty means none. A
	// command-line tool may set it to "stdout".
	DefaultSinks string
	// Environ lists the variables set, as os.Environ does ("NAME=value";
	// only the names are used), so that unknown MULTITRACK_* and POSTHOG_*
	// variables are found. When nil, os.Environ is used if Lookup is nil
	// too; with only Lookup, the settings that registered sinks declare are
	// checked, and no other unknown variable can be found.
	Environ func() []string
	// OnWarning receives each warning: a variable that is set but has no
	// effect (ErrUnknownVariable, with a "did you mean" when one is close;
	// ErrSinkNotSelected), as a *VarError. Warnings never fail the
	// configuration. When nil, they are logged at warn level where the
	// tracker logs: on the logger given with tracker.WithLogger, else on
	// the MULTITRACK_LOG_LEVEL logger. At most MaxProblems are given, then
	// one that counts the rest.
	OnWarning func(error)
}

// FromEnv builds a Tracker from the process environment; see FromLookup.
// It reads MULTITRACK_SINKS, POSTHOG_API_KEY, POSTHOG_HOST,
// MULTITRACK_POSTHOG_BATCH_SIZE, MULTITRACK_POSTHOG_INTERVAL,
// MULTITRACK_POSTHOG_PERSON_PROFILES, MULTITRACK_POSTHOG_HISTORICAL,
// MULTITRACK_POSTHOG_GROUP_PROPERTIES, MULTITRACK_STDOUT_FORMAT, MULTITRACK_FILE_PATH,
// MULTITRACK_FILE_MAX_SIZE_MB, MULTITRACK_FILE_MAX_BACKUPS,
// MULTITRACK_FILE_SYNC, the nats sink's MULTITRACK_NATS_* (URL, STREAM,
// SUBJECT, REPLICAS, MAX_AGE, MAX_BYTES, DUPLICATE_WINDOW, CREDS, TOKEN,
// TLS_CA, TLS_CERT, TLS_KEY), MULTITRACK_SAMPLE, MULTITRACK_QUEUE_SIZE,
// MULTITRACK_OVERFLOW, MULTITRACK_DEAD_LETTER_PATH, MULTITRACK_PROPERTIES,
// MULTITRACK_FALLBACK_DISTINCT_ID, MULTITRACK_MAX_EVENT_SIZE,
// MULTITRACK_LOG_LEVEL, MULTITRACK_PLAN_PATH, MULTITRACK_PLAN_MODE and each
// selected custom sink's MULTITRACK_<SINK>_<KEY>; the package
// documentation says what each means and its default.
func FromEnv(opts ...tracker.Option) (*tracker.Tracker, error) {
	return Env{}.Tracker(opts...)
}

// FromLookup builds a Tracker from the variables that lookup returns (as
// os.LookupEnv does), then opts, which apply on top of the environment's
// settings: WithSampler or WithLogger replace the environment's,
// WithProperties adds to them, WithSink adds a sink.
//
// Every problem is returned at once, as one error in which errors.Is and
// errors.As find each (*VarError naming its variable, *SinkError naming its
// sink, ErrUnknownSink, ErrMissing, ErrInvalid); tracker.New's error, when
// opts make it fail, is among them. No message contains a secret's value.
// When the configuration fails, the sinks already built are closed; sinks
// passed in opts stay the caller's.
func FromLookup(lookup func(string) (string, bool), opts ...tracker.Option) (*tracker.Tracker, error) {
	return Env{Lookup: lookup}.Tracker(opts...)
}

// Tracker builds a Tracker from e's variables, then opts; see FromLookup.
func (e Env) Tracker(opts ...tracker.Option) (*tracker.Tracker, error) {
	l := e.load()
	t, err := l.tracker(opts)
	if t != nil {
		// Log where the tracker logs: a WithLogger in opts replaces
		// MULTITRACK_LOG_LEVEL's logger.
		l.logger = t.Logger()
	}
	l.warn(e.OnWarning)
	if err != nil {
		return nil, err
	}
	l.logger.Info().Strs("sinks", l.sinkNames).Msg("multitrack: configured from the environment")
	return t, nil
}

// tracker builds the Tracker from a loaded configuration, or closes its
// sinks and returns every problem.
func (l *loader) tracker(opts []tracker.Option) (*tracker.Tracker, error) {
	if len(l.problems) == 0 {
		t, err := tracker.New(append(l.options(), opts...)...)
		if err == nil {
			return t, nil
		}
		l.report("", err)
	}
	l.closeSinks()
	return nil, l.err()
}

type problem struct {
	sink string // "" for the registry's own variables
	err  error
}

type varRecord struct {
	name, sink  string
	value, def  string
	set, secret bool
	lead        int // bytes of white space trimmed from the start of the value
}

type builtSink struct {
	name string
	sink tracker.Sink
}

// loader reads one configuration: every variable, every sink.
type loader struct {
	lookup func(string) (string, bool)
	stdout io.Writer
	stderr io.Writer
	logger zerolog.Logger

	vars     []varRecord
	index    map[string]int
	secrets  []string
	problems []problem
	warnings []error // variables set that have no effect

	sinkNames  []string
	sinks      []builtSink
	opts       []tracker.Option
	sinkOpts   []tracker.SinkOption
	planPath   string
	planMode   tracker.PlanMode
	planEvents int
}

func (e Env) load() *loader {
	l := e.newLoader()
	l.loadLogger()
	l.loadSinkNames(e.DefaultSinks)
	l.loadSampler()
	l.loadQueue()
	l.loadDeadLetter()
	l.loadProperties()
	l.loadIdentity()
	l.loadPlan()
	// Sinks are built even when a global variable is wrong, so that their
	// own problems are reported too; they are closed if anything failed.
	l.buildSinks()
	l.checkVariables(e.names())
	return l
}

// newLoader returns a loader over e's variables that has read none yet.
func (e Env) newLoader() *loader {
	l := &loader{
		lookup: e.Lookup,
		stdout: e.Stdout,
		stderr: e.Stderr,
		logger: zerolog.Nop(),
		index:  make(map[string]int),
	}
	if l.lookup == nil {
		l.lookup = os.LookupEnv
	}
	if l.stdout == nil {
		l.stdout = os.Stdout
	}
	if l.stderr == nil {
		l.stderr = os.Stderr
	}
	return l
}

// names returns the names of the variables set, when they can be listed.
func (e Env) names() []string {
	environ := e.Environ
	if environ == nil && e.Lookup == nil {
		environ = os.Environ
	}
	if environ == nil {
		return nil
	}
	var names []string
	for _, kv := range environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// warn gives every warning to onWarning, or logs it.
func (l *loader) warn(onWarning func(error)) {
	for _, w := range capProblems(dedupeProblems(l.warnings)) {
		var ve *VarError
		switch {
		case onWarning != nil:
			onWarning(w)
		case errors.As(w, &ve):
			l.logger.Warn().Str("variable", ve.Var).Msg("multitrack: " + ve.Err.Error())
		default: // the count of those beyond MaxProblems
			l.logger.Warn().Msg("multitrack: " + w.Error() + " warnings")
		}
	}
}

// read returns a variable's trimmed value and whether it is set (an empty
// value is unset), and records it for Describe. def is the default shown.
func (l *loader) read(name, sink, def string, secret bool) (string, bool) {
	if l == nil { // the zero Config
		return "", false
	}
	if i, ok := l.index[name]; ok {
		r := &l.vars[i]
		if secret && !r.secret {
			r.secret = true
			l.secrets = append(l.secrets, r.value)
		}
		return r.value, r.set
	}
	raw, ok := l.lookup(name)
	if !ok {
		raw = ""
	}
	v := strings.TrimSpace(raw)
	r := varRecord{name: name, sink: sink, value: v, def: def, set: v != "", secret: secret || secretpkg.Variable(name)}
	r.lead = len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace))
	if r.secret && r.set {
		l.secrets = append(l.secrets, v)
	}
	if pw := urlPassword(v); pw != "" { // https://user:PASSWORD@host
		l.secrets = append(l.secrets, pw)
	}
	l.index[name] = len(l.vars)
	l.vars = append(l.vars, r)
	return v, r.set
}

// isSecret reports whether the value of a variable read is secret.
func (l *loader) isSecret(name string) bool {
	if l == nil {
		return false
	}
	i, ok := l.index[name]
	return ok && l.vars[i].secret
}

// lead returns how many bytes of white space were trimmed from the start
// of a variable read, so that byte offsets in errors count from the value
// as it was set.
func (l *loader) lead(name string) int {
	if i, ok := l.index[name]; ok {
		return l.vars[i].lead
	}
	return 0
}

func (l *loader) report(sink string, err error) {
	if l == nil {
		return
	}
	l.problems = append(l.problems, problem{sink: sink, err: err})
}

// invalid records that name's value is not what was expected; the value is
// quoted unless it is secret.
func (l *loader) invalid(name, sink, value, want string) {
	// A secret pasted here is cut out before quote shortens the value (it
	// could cut the secret in two).
	shown := " " + quote(redactSecrets(value, l.secrets))
	if l.isSecret(name) {
		shown = ""
	}
	l.report(sink, &VarError{Var: name, Err: fmt.Errorf("%w%s: want %s", ErrInvalid, shown, want)})
}

// err returns every problem, secrets cut out, or nil.
func (l *loader) err() error { return joinProblems(l.scrubbed()) }

// scrubbed returns every problem with secrets cut out.
func (l *loader) scrubbed() []error {
	errs := make([]error, len(l.problems))
	for i, p := range l.problems {
		errs[i] = scrub(p.err, l.secrets)
	}
	return errs
}

func (l *loader) options() []tracker.Option {
	opts := slices.Clone(l.opts)
	for _, s := range l.sinks {
		opts = append(opts, tracker.WithSink(s.name, s.sink, l.sinkOpts...))
	}
	return opts
}

// closeSinks closes the sinks built so far, within CloseTimeout, recording
// their errors.
func (l *loader) closeSinks() {
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	for _, s := range l.sinks {
		if err := s.sink.Close(ctx); err != nil {
			l.report(s.name, &SinkError{Sink: s.name, Err: fmt.Errorf("closing after the configuration failed: %w", err)})
		}
	}
	l.sinks = nil
}
