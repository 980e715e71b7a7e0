package posthog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrUnacknowledged is the reason given for events that were still under
// way, with no answer from PostHog, when Close had to return.
var ErrUnacknowledged = errors.New("posthog: no answer from PostHog before Close returned")

// closeMargin is the most Close keeps of its deadline for each of its last
// two steps: aborting the requests under way (their reports arrive), then
// reporting what is left.
const closeMargin = 100 * time.Millisecond

// Close sends everything the sink holds and retries failed attempts (5xx,
// 408, 429, no answer) with backoff and Retry-After until shortly before
// ctx's deadline; then it gives up on what is left, reports it, one
// UndeliveredFunc call per reason, and returns, never after the deadline.
// Its error counts the events not delivered only when no UndeliveredFunc is
// set (with one, the tracker names them: once).
func (s *Sink) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !s.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}
	before := s.stats.undelivered()

	// Retries stop, and requests under way are aborted, two margins before
	// the deadline; Close stops waiting for their reports one margin before.
	// Without a deadline, retries stop after WithMaxRetries, as always.
	retryCtx, reportCtx := ctx, ctx
	var until time.Time
	if d, ok := ctx.Deadline(); ok {
		m := max(min(closeMargin, time.Until(d)/10), 0)
		until = d.Add(-2 * m)
		var cancel1, cancel2 context.CancelFunc
		retryCtx, cancel1 = context.WithDeadline(ctx, until)
		reportCtx, cancel2 = context.WithDeadline(ctx, d.Add(-m))
		defer cancel1()
		defer cancel2()
	}
	s.retry.startClosing(until)
	s.handOver(false) // the last client sends everything it holds
	if err := s.ledger.wait(retryCtx); err != nil {
		cause := ctx.Err()
		if cause == nil { // retryCtx's deadline, just before ctx's
			cause = context.DeadlineExceeded
		}
		s.retry.end(cause)
		s.rt.stop()
		s.ledger.wait(reportCtx)
	}
	s.rt.stop()
	s.retry.stop(reportCtx.Done())
	s.cancel() // posthog-go's clients stop waiting for their requests
	s.relMu.Lock()
	s.unwaited = true
	s.relMu.Unlock()
	waitFor(&s.sending, reportCtx.Done())

	left := s.ledger.takeAll()
	s.stats.unacknowledged.Add(uint64(len(left)))
	// Fence: wait for reports under way; later ones are ignored.
	s.closed.Store(true)
	s.fence.Lock()
	//lint:ignore SA2001 an empty critical section is the fence
	s.fence.Unlock()

	s.atClose.Lock()
	events, reasons := s.atClose.events, s.atClose.reasons
	s.atClose.events, s.atClose.reasons = nil, nil
	s.atClose.Unlock()
	if len(left) > 0 {
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		unacked := fmt.Errorf("%w: %w", ErrUnacknowledged, cause)
		events = append(events, left...)
		for range left {
			reasons = append(reasons, unacked)
		}
	}
	s.reportByReason(events, reasons)
	s.closeTransport()
	return s.closeError(s.stats.undelivered()-before, reasons)
}

// closeError counts the n events not delivered at close, with each distinct
// reason, when no UndeliveredFunc reported them.
func (s *Sink) closeError(n uint64, reasons []error) error {
	if n == 0 || s.undelivered() != nil {
		return nil
	}
	var distinct []error
	seen := make(map[string]bool)
	for _, r := range reasons {
		if k := r.Error(); !seen[k] {
			seen[k] = true
			distinct = append(distinct, r)
		}
	}
	if len(distinct) == 0 {
		return fmt.Errorf("posthog: %d events not delivered at close", n)
	}
	return fmt.Errorf("posthog: %d events not delivered at close: %w", n, errors.Join(distinct...))
}

// waitFor waits for wg, or until done is closed.
func waitFor(wg *sync.WaitGroup, done <-chan struct{}) {
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	select {
	case <-ch:
	case <-done:
	}
}

func (s *Sink) closeTransport() {
	if s.ownedRT != nil {
		s.ownedRT.CloseIdleConnections()
	}
}
