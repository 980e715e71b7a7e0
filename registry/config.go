package registry

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Config gives a Factory its sink's settings: the environment variables
// MULTITRACK_<SINK>_<KEY>, where <SINK> is the sink's name upper-cased, and
// any other variable it needs by its full name (Lookup).
//
// Values are trimmed of surrounding white space, and an empty value is the
// same as an unset variable. The typed getters return the default when the
// variable is unset, and record a problem naming the variable and what was
// expected when its value is wrong; FromLookup returns every problem of every
// sink and global variable together. Every variable read is shown by
// Describe, with its value, or [redacted] when its name looks secret (or it
// was read with Secret).
//
// A Config is valid only during the Factory call it was given to.
type Config struct {
	l    *loader
	name string
}

// Name returns the sink's registered name, e.g. "file".
func (c Config) Name() string { return c.name }

// Var returns the full name of the sink's variable for key:
// Var("max_size_mb") is "MULTITRACK_FILE_MAX_SIZE_MB" for the file sink.
func (c Config) Var(key string) string {
	return envPrefix + strings.ToUpper(c.name) + "_" + strings.ToUpper(key)
}

// Get returns the value of the sink's variable for key, or "" when unset.
func (c Config) Get(key string) string {
	v, _ := c.read(c.Var(key), "", false)
	return v
}

// Secret returns the value of the sink's variable for key, or "" when unset,
// and marks the value secret: it is never shown by Describe and is cut out
// of every error message. Variables whose names look secret (…_API_KEY,
// …_TOKEN, …_PASSWORD, …) are marked so whichever getter reads them.
func (c Config) Secret(key string) string {
	v, _ := c.read(c.Var(key), "", true)
	return v
}

// Lookup returns the value of any variable by its full name, such as
// POSTHOG_API_KEY, and whether it is set.
func (c Config) Lookup(name string) (string, bool) {
	return c.read(name, "", false)
}

// Required returns the value of the sink's variable for key; when it is not
// set, it records a problem matching ErrMissing.
func (c Config) Required(key string) string {
	name := c.Var(key)
	v, ok := c.read(name, "(required)", false)
	if !ok {
		c.Missing(name)
	}
	return v
}

// Missing records that the variable name (usually c.Var(key), or a full
// name read with Lookup) is required by the sink but not set, a problem
// matching ErrMissing.
func (c Config) Missing(name string) {
	c.report(&VarError{Var: name, Err: fmt.Errorf("required by sink %q but %w", c.name, ErrMissing)})
}

// Int returns the sink's variable for key as a base-10 integer no smaller
// than min, or def when unset. A value that is not such an integer is
// recorded as a problem matching ErrInvalid, and def is returned.
func (c Config) Int(key string, def, min int) int {
	return c.l.intVar(c.Var(key), c.name, def, min, math.MaxInt)
}

// Duration returns the sink's variable for key as a positive Go duration
// ("500ms", "5s", "1m30s"), or def when unset. A bad value is recorded as a
// problem matching ErrInvalid, and def is returned.
func (c Config) Duration(key string, def time.Duration) time.Duration {
	return c.l.durationVar(c.Var(key), c.name, def, 1, maxDuration)
}

// Bool returns the sink's variable for key as a boolean: true, false, 1, 0,
// yes, no, on or off, in any case; def when unset. A bad value is recorded
// as a problem matching ErrInvalid, and def is returned.
func (c Config) Bool(key string, def bool) bool {
	name := c.Var(key)
	v, ok := c.read(name, strconv.FormatBool(def), false)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true
	case "0", "f", "false", "no", "n", "off":
		return false
	}
	c.l.invalid(name, c.name, v, "true or false (also 1/0, yes/no, on/off)")
	return def
}

// Size returns the sink's variable for key as a number of bytes, or def
// when unset: a whole number of bytes ("4096"), or one with a unit, decimal
// (kB, MB, GB: powers of 1000) or binary (KiB, MiB, GiB: powers of 1024),
// case-insensitive, such as "64KiB" or "10MB". A bad or negative value is
// recorded as a problem matching ErrInvalid, and def is returned.
func (c Config) Size(key string, def int64) int64 {
	return c.l.sizeVar(c.Var(key), c.name, def, 0, math.MaxInt64)
}

// Invalid records a problem with the variable name (usually c.Var(key)),
// matching ErrInvalid and err. err must not contain a secret's value (one
// that does is redacted in the returned error's message anyway).
func (c Config) Invalid(name string, err error) {
	c.report(&VarError{Var: name, Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
}

// Err returns the problems recorded so far for this sink, or nil. A factory
// returns it instead of building a sink from bad settings; FromLookup does
// not count those problems twice.
func (c Config) Err() error {
	if c.l == nil {
		return nil
	}
	var errs []error
	for _, p := range c.l.problems {
		if p.sink == c.name {
			errs = append(errs, p.err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &settingsError{sink: c.name, errs: errs}
}

// Stdout returns where a sink that prints should write: os.Stdout, or the
// Env's Stdout.
func (c Config) Stdout() io.Writer {
	if c.l == nil {
		return nil
	}
	return c.l.stdout
}

// Logger returns the logger for the sink's own diagnostics, set by
// MULTITRACK_LOG_LEVEL (disabled by default). It never logs secrets or
// property values; neither must the sink.
func (c Config) Logger() zerolog.Logger {
	if c.l == nil {
		return zerolog.Nop()
	}
	return c.l.logger.With().Str("sink", c.name).Logger()
}

// Parse reads the sink's variable for key with parse, such as
// stdout.ParseFormat or tracker.ParseOverflow; it returns def when the
// variable is unset. An error from parse is recorded as a problem matching
// ErrInvalid and the parse error, and def is returned.
func Parse[T any](c Config, key string, def T, parse func(string) (T, error)) T {
	name := c.Var(key)
	v, ok := c.read(name, fmt.Sprint(def), false)
	if !ok {
		return def
	}
	t, err := parse(v)
	switch {
	case err == nil:
		return t
	case c.l.isSecret(name):
		// A parse error may quote the value: say only what failed.
		msg := ErrInvalid.Error() + " (not shown: the variable is secret)"
		c.report(&VarError{Var: name, Err: &redactedError{msg: msg, err: fmt.Errorf("%w: %w", ErrInvalid, err)}})
	default:
		c.Invalid(name, err)
	}
	return def
}

func (c Config) read(name, def string, secret bool) (string, bool) {
	return c.l.read(name, c.name, def, secret)
}

func (c Config) report(err error) { c.l.report(c.name, err) }

// settingsError is what Config.Err returns: the problems already recorded.
type settingsError struct {
	sink string
	errs []error
}

func (e *settingsError) Error() string {
	return fmt.Sprintf("sink %s: %d problems in its settings", e.sink, len(e.errs))
}

func (e *settingsError) Unwrap() []error { return e.errs }
