package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errTooLarge says a decoded payload would exceed its limit.
var errTooLarge = errors.New("over the size limit")

// requestError is what was wrong with a request, as the client is told: an
// HTTP status, a machine-readable code and a sentence naming the problem.
// Its detail never holds an API key or a property value.
type requestError struct {
	status     int
	code       string
	detail     string
	retryAfter time.Duration // with 429 and 503
}

func (e *requestError) Error() string { return e.detail }

func badRequest(code, format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: code, detail: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) *requestError {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large", detail: fmt.Sprintf(format, args...)}
}

// The codes of the answers, as in PostHog's error bodies.
const (
	codeInvalidPayload = "invalid_payload"
	codeInvalidEvent   = "invalid_event"
	codeInvalidKey     = "invalid_api_key"
	codeRateLimited    = "rate_limited"
	codeNotDelivered   = "not_delivered"
	codeUnsupported    = "unsupported_encoding"
)

// errorBody is the JSON of an error answer, shaped as PostHog's:
// {"type": "validation_error", "code": "invalid_payload", "detail": "…"}.
type errorBody struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	Detail   string `json:"detail"`
	Accepted *int   `json:"accepted,omitempty"` // events kept from a request with invalid ones
}

func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "server_error"
	}
	return "validation_error"
}

// writeError answers with e; accepted, when not negative, says how many of
// the request's events were kept nevertheless.
func writeError(w http.ResponseWriter, e *requestError, accepted int) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.retryAfter)))
	}
	b := errorBody{Type: errorType(e.status), Code: e.code, Detail: e.detail}
	if accepted >= 0 {
		b.Accepted = &accepted
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(b)
}

// retryAfterSeconds rounds d up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// problems collects what was wrong with a request's events, keeping the
// first few for the answer.
type problems struct {
	list  []string
	count int
}

const maxProblemsShown = 10

func (p *problems) add(format string, args ...any) {
	p.count++
	if len(p.list) < maxProblemsShown {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

func (p *problems) String() string {
	s := strings.Join(p.list, "; ")
	if more := p.count - len(p.list); more > 0 {
		s += fmt.Sprintf("; and %d more", more)
	}
	return s
}
