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

// MaxProblems is the most problems an error's message, or Describe, lists
// one by one; the rest are counted in a last line, "and 12 more".
// Identical problems are listed once, with how many times they occurred.
const MaxProblems = 20

// joinProblems returns every problem as one error, or nil: a go-multierror
// list whose message names each problem on its own line, and in which
// errors.Is and errors.As find each. Identical problems are merged, and
// those beyond MaxProblems folded into one *moreProblems.
func joinProblems(errs []error) error {
	errs = capProblems(dedupeProblems(errs))
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
	fmt.Fprintf(&b, "multitrack configuration: %d problems:", countProblems(errs))
	for _, err := range errs {
		b.WriteString("\n  - ")
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n    "))
	}
	return b.String()
}

// repeatedError is a problem that occurred n times, listed once.
type repeatedError struct {
	err error
	n   int
}

func (e *repeatedError) Error() string { return fmt.Sprintf("%s (%d times)", e.err.Error(), e.n) }
func (e *repeatedError) Unwrap() error { return e.err }

// moreProblems stands for the problems beyond MaxProblems: its message
// counts them; errors.Is and errors.As still find each.
type moreProblems struct{ errs []error }

func (e *moreProblems) Error() string   { return fmt.Sprintf("and %d more", len(e.errs)) }
func (e *moreProblems) Unwrap() []error { return e.errs }

// dedupeProblems merges the problems whose messages are identical, in the
// place of the first.
func dedupeProblems(errs []error) []error {
	seen := make(map[string]int, len(errs))
	counts := make([]int, 0, len(errs))
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		msg := err.Error()
		if i, ok := seen[msg]; ok {
			counts[i]++
			continue
		}
		seen[msg] = len(out)
		out = append(out, err)
		counts = append(counts, 1)
	}
	for i, n := range counts {
		if n > 1 {
			out[i] = &repeatedError{err: out[i], n: n}
		}
	}
	return out
}

// capProblems folds the problems beyond MaxProblems into one.
func capProblems(errs []error) []error {
	if len(errs) <= MaxProblems {
		return errs
	}
	return append(errs[:MaxProblems:MaxProblems], &moreProblems{errs: errs[MaxProblems:]})
}

// countProblems is how many problems a capped list stands for.
func countProblems(errs []error) int {
	n := len(errs)
	if n > 0 {
		if more, ok := errs[n-1].(*moreProblems); ok {
			n += len(more.errs) - 1
		}
	}
	return n
}
