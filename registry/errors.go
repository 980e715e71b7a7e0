package registry

import (
	"errors"
	"fmt"
	"strings"

	secretpkg "github.com/multitrack/multitrack/internal/secret"

	"github.com/hashicorp/go-multierror"
)

// Sentinel errors matched with errors.Is by the problems FromLookup returns.
var (
	// ErrUnknownSink: MULTITRACK_SINKS names a sink that is not registered.
	ErrUnknownSink = errors.New("unknown sink")
	// ErrMissing: a required variable is not set.
	ErrMissing = errors.New("not set")
	// ErrInvalid: a variable's value cannot be used.
	ErrInvalid = errors.New("invalid value")
)

// VarError is a problem with one environment variable. Its message never
// contains the value of a secret.
type VarError struct {
	Var string // the variable, e.g. "MULTITRACK_QUEUE_SIZE"
	Err error  // what is wrong and what was expected
}

// Error returns "VAR: problem".
func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *VarError) Unwrap() error { return e.Err }

// SinkError is a sink that failed to build: its factory returned an error
// or panicked.
type SinkError struct {
	Sink string // the sink's registered name
	Err  error
}

// Error returns "sink NAME: problem".
func (e *SinkError) Error() string { return "sink " + e.Sink + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *SinkError) Unwrap() error { return e.Err }

// redactedError is an error whose message had a secret's value in it (from a
// factory or a sink's constructor); the message is rewritten, the error
// still matches what it wrapped.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// minSecretLen is the shortest secret value that is searched for and
// replaced in messages: shorter ones would mangle every message and give
// nothing away.
const minSecretLen = 4

// scrub rewrites err's message when it contains one of the secrets.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	if out := redactSecrets(msg, secrets); out != msg {
		return &redactedError{msg: out, err: err}
	}
	return err
}

// redactSecrets replaces every secret in s with the redaction marker.
func redactSecrets(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecretLen {
			s = strings.ReplaceAll(s, secret, secretpkg.Marker)
		}
	}
	return s
}

// joinProblems returns every problem as one error, or nil: a go-multierror
// list whose message names each problem on its own line, and in which
// errors.Is and errors.As find each.
func joinProblems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return (&multierror.Error{Errors: errs, ErrorFormat: formatProblems}).ErrorOrNil()
}

func formatProblems(errs []error) string {
	if len(errs) == 1 {
		return "multitrack configuration: " + errs[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "multitrack configuration: %d problems:", len(errs))
	for _, err := range errs {
		b.WriteString("\n  - ")
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n    "))
	}
	return b.String()
}
