package posthog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ResponseError is the cause given for events whose request PostHog answered
// with a status other than 2xx. The sink observes the answer in its HTTP
// transport, so errors.As finds it in every reason it reports.
type ResponseError struct {
	StatusCode int
	// RetryAfter is what the answer's Retry-After header asked for (seconds
	// or an HTTP date), 0 when it had none.
	RetryAfter time.Duration
}

// Error names the status PostHog answered and its Retry-After.
func (e *ResponseError) Error() string {
	s := fmt.Sprintf("PostHog answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (Retry-After %s)", e.RetryAfter)
	}
	return s
}

// Retryable says whether a later attempt may succeed: 5xx, 408 and 429.
func (e *ResponseError) Retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests
}

// networkError is the cause given for a request that got no answer.
type networkError struct{ err error }

func (e *networkError) Error() string { return "no answer from PostHog: " + e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// heldError is the cause given for a request the transport did not send
// because PostHog had asked, with Retry-After, to wait until then.
type heldError struct{ until time.Time }

func (e *heldError) Error() string {
	return "held back: PostHog asked to wait until " + e.until.UTC().Format(time.RFC3339Nano)
}

// errAborted is the cause given for requests that Close stopped at its
// deadline, and for those it refused after.
var errAborted = errors.New("posthog: request aborted at Close's deadline")

// maxRetryAfter caps how long a Retry-After holds events back: a server
// asking for more is believed for this long.
const maxRetryAfter = 5 * time.Minute

// maxDrain bounds how much of an answer's body the transport reads so that
// the connection can be used again; it is never logged.
const maxDrain = 64 << 10

// transport is the RoundTripper posthog-go sends through. It turns every
// answer other than 2xx into a *ResponseError and every failed request into
// a *networkError, so that the sink decides on retries from what it
// observed; it holds requests back while a Retry-After is in force; and it
// aborts every request once Close's deadline is near.
type transport struct {
	next   http.RoundTripper
	now    func() time.Time
	until  atomic.Int64 // unix nanoseconds before which requests are held back
	abort  context.Context
	cancel context.CancelFunc
	held   atomic.Uint64 // requests held back
}

func newTransport(next http.RoundTripper) *transport {
	ctx, cancel := context.WithCancel(context.Background())
	return &transport{next: next, now: time.Now, abort: ctx, cancel: cancel}
}

// stop aborts the requests under way and refuses every later one.
func (t *transport) stop() { t.cancel() }

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.abort.Err() != nil {
		closeBody(req)
		return nil, errAborted
	}
	if until := t.until.Load(); t.now().UnixNano() < until {
		closeBody(req)
		t.held.Add(1)
		return nil, &heldError{until: time.Unix(0, until)}
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	stop := context.AfterFunc(t.abort, func() { cancel(errAborted) })
	defer stop()

	res, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if context.Cause(ctx) == errAborted {
			return nil, errAborted
		}
		return nil, &networkError{err}
	}
	// Read the body while ctx holds (a small one: PostHog answers
	// {"status":1}), so that the connection is used again.
	_, copyErr := io.Copy(io.Discard, io.LimitReader(res.Body, maxDrain))
	res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if copyErr != nil && context.Cause(ctx) == errAborted {
			return nil, errAborted
		}
		res.Body = http.NoBody
		return res, nil
	}
	re := &ResponseError{StatusCode: res.StatusCode}
	if d, ok := parseRetryAfter(res.Header.Get("Retry-After"), t.now()); ok {
		re.RetryAfter = min(d, maxRetryAfter)
		t.holdUntil(t.now().Add(re.RetryAfter))
	}
	return nil, re
}

// holdUntil holds requests back until at least u.
func (t *transport) holdUntil(u time.Time) {
	n := u.UnixNano()
	for {
		old := t.until.Load()
		if old >= n || t.until.CompareAndSwap(old, n) {
			return
		}
	}
}

// heldUntil is when requests may go again (zero or past: now).
func (t *transport) heldUntil() time.Time {
	if n := t.until.Load(); n > 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// parseRetryAfter reads a Retry-After header: a number of seconds, or an
// HTTP date. It says false when there is none, or it asks for no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0, false
		}
		if s > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now), true
	}
	return 0, false
}

var _ http.RoundTripper = (*transport)(nil)
