package posthog

import (
	"errors"
	"fmt"
	"sync"
	"time"

	ph "github.com/posthog/posthog-go"
)

// failure is a failed attempt to send the message tracked under uuid; once
// given up on, reason says why.
type failure struct {
	uuid   string
	cause  error
	reason error
}

// retryPolicy decides from a failed attempt's cause whether to try again,
// and when.
type retryPolicy struct {
	maxRetries int // 0: never
	backoff    *ph.Backoff
}

// next returns when to try again after the attempt that failed with cause,
// the message's attempts counted so far (a held-back request is not an
// attempt), and whether counted says it was one. retry is false when the
// cause is final.
func (p retryPolicy) next(cause error, attempts int, now time.Time) (at time.Time, counted, retry bool) {
	var held *heldError
	var re *ResponseError
	var ne *networkError
	switch {
	case errors.Is(cause, errAborted):
		return time.Time{}, false, false
	case errors.As(cause, &held):
		return held.until, false, p.maxRetries > 0
	case errors.As(cause, &re):
		if !re.Retryable() {
			return time.Time{}, true, false
		}
		return now.Add(max(p.backoff.Duration(attempts), re.RetryAfter)), true, p.maxRetries > 0
	case errors.As(cause, &ne), errors.Is(cause, ph.ErrTooManyRequests):
		return now.Add(p.backoff.Duration(attempts)), true, p.maxRetries > 0
	}
	return time.Time{}, false, false // cannot be encoded, too big, a panic: final
}

// retrier owns the messages waiting to be sent again. posthog-go's callbacks
// report failed attempts to it; its goroutine decides on each (again later,
// or give up), sends again the ones that are due, and gives up on the others
// in groups, so that a failing batch costs one report, not one per event.
// The Sink starts it in New and stops it in Close.
type retrier struct {
	policy retryPolicy
	ledger *ledger
	now    func() time.Time
	resend func(uuids []string)  // sends these again now
	giveUp func(fails []failure) // reports these given up on
	logf   func(format string, args ...any)
	held   func() time.Time // until when the transport holds requests back

	mu       sync.Mutex
	inbox    []failure
	due      []scheduled
	inClose  bool      // Close has begun
	until    time.Time // with closing: no attempt after it; zero: count attempts
	endCause error     // set: give up on everything (Close's deadline has come)
	quit     bool
	wake     chan struct{} // capacity 1
	done     chan struct{} // closed when run returns
}

// retrySlack lets messages due within it of each other go in one retry: the
// failures of one request reach the retrier a few at a time. (A message due
// to a Retry-After is still held back by the transport until then.)
const retrySlack = 5 * time.Millisecond

type scheduled struct {
	uuid  string
	at    time.Time
	cause error // of the last failed attempt
}

func newRetrier(p retryPolicy, l *ledger, resend func([]string), giveUp func([]failure), logf func(string, ...any), held func() time.Time) *retrier {
	return &retrier{
		policy: p, ledger: l, now: time.Now, resend: resend, giveUp: giveUp, logf: logf, held: held,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

func (r *retrier) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// failed records a failed attempt; posthog-go's goroutines call it.
func (r *retrier) failed(u string, cause error) {
	r.mu.Lock()
	r.inbox = append(r.inbox, failure{uuid: u, cause: cause})
	r.mu.Unlock()
	r.signal()
}

// startClosing starts Close's mode: retries go on until until regardless of how
// many attempts were made (with a zero until, as many as WithMaxRetries).
func (r *retrier) startClosing(until time.Time) {
	r.mu.Lock()
	r.inClose, r.until = true, until
	r.mu.Unlock()
	r.signal() // what waits past until is given up on now
}

// end gives up on every message waiting for a retry, and on every failure
// from now on, with cause (Close's context error).
func (r *retrier) end(cause error) {
	r.mu.Lock()
	r.endCause = cause
	r.mu.Unlock()
	r.signal()
}

// stop ends the goroutine after one more round; it returns when the
// goroutine has, or when abandon is closed.
func (r *retrier) stop(abandon <-chan struct{}) {
	r.mu.Lock()
	r.quit = true
	r.mu.Unlock()
	r.signal()
	select {
	case <-r.done:
	case <-abandon:
	}
}

// run is the retrier's goroutine.
func (r *retrier) run() {
	defer close(r.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-r.wake:
		case <-timer.C:
		}
		next, quit := r.round()
		if quit {
			return
		}
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), 0))
		}
	}
}

// round decides on the failures reported since the last one, then sends
// again what is due and gives up on the rest. It returns when the next
// retry is due (zero: none waiting).
func (r *retrier) round() (next time.Time, quit bool) {
	r.mu.Lock()
	inbox := r.inbox
	r.inbox = nil
	now := r.now()
	var finals []failure
	retried := 0
	var cause error
	for _, f := range inbox {
		if f, ok := r.decide(f, now); !ok {
			finals = append(finals, f)
		} else {
			retried, cause = retried+1, f.cause
		}
	}
	if retried > 0 {
		r.logf("posthog: %d messages to send again (%d waiting): %v", retried, len(r.due), cause)
	}
	var send []string
	kept := r.due[:0]
	held := r.held() // a Retry-After in force: what is due waits for it, unsent
	for _, s := range r.due {
		if held.After(now) && s.at.Before(held) {
			s.at = held
		}
		switch {
		case r.endCause != nil:
			finals = append(finals, failure{uuid: s.uuid, reason: r.endReason(s.cause)})
		case r.inClose && !r.until.IsZero() && s.at.After(r.until):
			finals = append(finals, failure{uuid: s.uuid, reason: tooLate(s.cause)})
		case !s.at.After(now.Add(retrySlack)):
			send = append(send, s.uuid)
		default:
			kept = append(kept, s)
			if next.IsZero() || s.at.Before(next) {
				next = s.at
			}
		}
	}
	clear(r.due[len(kept):])
	r.due = kept
	quit = r.quit
	r.mu.Unlock()
	if len(finals) > 0 {
		r.giveUp(finals)
	}
	if len(send) > 0 {
		r.resend(send)
	}
	return next, quit
}

// decide schedules f's message again, or returns f with the reason it is
// given up on and false. r.mu is held.
func (r *retrier) decide(f failure, now time.Time) (failure, bool) {
	if r.endCause != nil {
		f.reason = r.endReason(f.cause)
		return f, false
	}
	at, counted, retry := r.policy.next(f.cause, 0, now)
	attempts := 0
	if counted {
		var ok bool
		if attempts, ok = r.ledger.fail(f.uuid); !ok {
			return f, true // settled already (a duplicate UUID's copy): nothing to do
		}
		at, _, retry = r.policy.next(f.cause, attempts-1, now)
	}
	switch {
	case errors.Is(f.cause, errAborted):
		f.reason = r.endReason(f.cause)
	case !retry:
		f.reason = fmt.Errorf("posthog: delivery failed: %w", f.cause)
	case r.inClose && !r.until.IsZero():
		if at.After(r.until) {
			f.reason = tooLate(f.cause)
		}
	case attempts > r.policy.maxRetries:
		f.reason = fmt.Errorf("posthog: delivery failed after %d attempts: %w", attempts, f.cause)
	}
	if f.reason != nil {
		return f, false
	}
	r.due = append(r.due, scheduled{uuid: f.uuid, at: at, cause: f.cause})
	return f, true
}

// tooLate is the reason given for a message whose next attempt would come
// after Close's deadline.
func tooLate(cause error) error {
	return fmt.Errorf("posthog: no time to try again before Close's deadline: %w", cause)
}

// endReason is the reason given for what Close gives up on at its end.
func (r *retrier) endReason(last error) error {
	cause := r.endCause
	if cause == nil {
		cause = errAborted
	}
	if last == nil {
		return fmt.Errorf("posthog: not delivered before Close ended: %w", cause)
	}
	return fmt.Errorf("posthog: not delivered before Close ended: %w; last attempt: %w", cause, last)
}
