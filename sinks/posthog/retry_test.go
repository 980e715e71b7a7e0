package posthog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/internal/posthogtest"
)

// A 429 with Retry-After (seconds, or an HTTP date) holds every request
// back until then: the failed batch is retried no sooner, events written in
// the meantime wait too, and all are delivered.
func TestRetryAfterHoldsEveryRequestBack(t *testing.T) {
	cases := []struct {
		name       string
		retryAfter func(now time.Time) (header string, notBefore time.Time)
	}{
		{"seconds", func(now time.Time) (string, time.Time) { return "1", now.Add(time.Second) }},
		{"HTTP date", func(now time.Time) (string, time.Time) {
			at := now.Add(2 * time.Second).UTC().Truncate(time.Second) // the format has whole seconds
			return at.Format(http.TimeFormat), at
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var notBefore time.Time
			f := posthogtest.NewServer(t, func(n int) posthogtest.Answer {
				if n == 0 {
					var h string
					h, notBefore = tc.retryAfter(time.Now())
					return posthogtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: h}
				}
				return posthogtest.Answer{}
			})
			s, c := newTestSink(t, f.URL, WithInterval(time.Hour), WithBatchSize(100))
			first, second := makeEvents(5), makeEvents(5)
			writeAll(t, s, first, 5)
			s.handOver(true) // send the first batch now, without waiting for it
			// Until the 429 is answered, and seen by the transport.
			for ctx := within(t, 10*time.Second); s.rt.heldUntil().IsZero(); time.Sleep(time.Millisecond) {
				if ctx.Err() != nil {
					t.Fatal("no 429 seen")
				}
			}
			writeAll(t, s, second, 5)
			if err := s.Flush(within(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			reqs := f.Requests()
			for _, r := range reqs[1:] {
				if r.At.Before(notBefore) {
					t.Errorf("a request %v before the Retry-After allowed", notBefore.Sub(r.At))
				}
			}
			all := append(first, second...)
			if acc, und := assertAccounted(t, all, f, c); acc != len(all) || und != 0 {
				t.Errorf("accepted %d, undelivered %d; want all %d accepted", acc, und, len(all))
			}
			if st := s.Stats(); st.Held == 0 {
				t.Errorf("Stats = %+v: the second batch was not held back", st)
			}
			t.Logf("%d requests; the last %v after the 429", len(reqs), reqs[len(reqs)-1].At.Sub(reqs[0].At))
		})
	}
}

// The repro: an endpoint answering every request 429 with
// Retry-After got 42 requests in 2.8 s. Now no request goes before the
// Retry-After has passed, however many events are written meanwhile: what
// waits goes at once when it has (one attempt, in as many batches as it
// takes), then waits again.
func TestRetryAfterBoundsTheRequestRate(t *testing.T) {
	f := posthogtest.NewServer(t, func(int) posthogtest.Answer {
		return posthogtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "1"}
	})
	s, _ := newTestSink(t, f.URL, WithMaxRetries(9), WithBatchSize(100))
	ctx := within(t, 2500*time.Millisecond)
	start := time.Now()
	for ctx.Err() == nil {
		writeAll(t, s, makeEvents(20), 20)
		flushCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		s.Flush(flushCtx) // ends with its context: the events wait for the Retry-After
		cancel()
	}
	elapsed := time.Since(start)
	reqs := f.Requests()
	// Requests sent together (within half the Retry-After: on a loaded
	// machine a burst's requests arrive over a while) are one attempt.
	attempts := []time.Time{reqs[0].At}
	for i := 1; i < len(reqs); i++ {
		gap := reqs[i].At.Sub(attempts[len(attempts)-1])
		switch {
		case gap > 500*time.Millisecond && gap < time.Second:
			t.Errorf("request %d came %v after a 429 asking for 1 s", i, gap)
		case gap >= time.Second:
			attempts = append(attempts, reqs[i].At)
		}
	}
	if max := 1 + int(elapsed/time.Second); len(attempts) > max {
		t.Errorf("%d attempts in %v, want at most %d", len(attempts), elapsed, max)
	}
	t.Logf("%d requests in %d attempts in %v; Stats %+v", len(reqs), len(attempts), elapsed, s.Stats())
	closeBy(t, s, 500*time.Millisecond) // the next attempt would be after the deadline: none
}

// A Retry-After reaching past Close's deadline is honoured: Close does not
// send again, and gives up on the events at once.
func TestRetryAfterPastTheCloseDeadlineIsHonoured(t *testing.T) {
	f := posthogtest.NewServer(t, func(int) posthogtest.Answer {
		return posthogtest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "30"}
	})
	s, c := newTestSink(t, f.URL, WithInterval(time.Hour))
	events := makeEvents(5)
	writeAll(t, s, events, 5)
	if err := closeBy(t, s, 5*time.Second); err != nil {
		t.Errorf("Close = %v", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	var re *ResponseError
	for _, r := range c.allReasons() {
		if !errors.As(r, &re) || re.StatusCode != http.StatusTooManyRequests || re.RetryAfter != 30*time.Second {
			t.Errorf("reason %v, want the 429 with its Retry-After", r)
		}
	}
	if acc, und := assertAccounted(t, events, f, c); acc != 0 || und != len(events) {
		t.Errorf("accepted %d, undelivered %d", acc, und)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, false},
		{"-3", 0, false},
		{"99999999999", maxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		if got, ok := parseRetryAfter(tc.in, now); got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The retry decision comes from what the transport observed, never from an
// error's text.
func TestRetryPolicyDecidesFromTheObservedAnswer(t *testing.T) {
	p := retryPolicy{maxRetries: 3, backoff: ph.NewBackoff(100*time.Millisecond, 2, 0, time.Second)}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	wrapped := func(err error) error { return &url.Error{Op: "Post", URL: "http://x/batch/", Err: err} }
	cases := []struct {
		name    string
		cause   error
		wantAt  time.Duration // after now
		counted bool
		retry   bool
	}{
		{"503", wrapped(&ResponseError{StatusCode: 503}), 200 * time.Millisecond, true, true},
		{"429 asking for longer", wrapped(&ResponseError{StatusCode: 429, RetryAfter: 5 * time.Second}), 5 * time.Second, true, true},
		{"408", wrapped(&ResponseError{StatusCode: 408}), 200 * time.Millisecond, true, true},
		{"400", wrapped(&ResponseError{StatusCode: 400}), 0, true, false},
		{"413", wrapped(&ResponseError{StatusCode: 413}), 0, true, false},
		{"no answer", wrapped(&networkError{errors.New("connection refused")}), 200 * time.Millisecond, true, true},
		{"held back", wrapped(&heldError{until: now.Add(3 * time.Second)}), 3 * time.Second, false, true},
		{"aborted", wrapped(errAborted), 0, false, false},
		{"posthog-go's in-flight limit", ph.ErrTooManyRequests, 200 * time.Millisecond, true, true},
		{"a message too big", ph.ErrMessageTooBig, 0, false, false},
		{"text that looks like a 503", errors.New("503 Service Unavailable"), 0, false, false},
	}
	for _, tc := range cases {
		at, counted, retry := p.next(tc.cause, 1, now)
		if retry != tc.retry || counted != tc.counted || (retry && at.Sub(now) != tc.wantAt) {
			t.Errorf("%s: next = %v, counted %v, retry %v; want %v, %v, %v", tc.name, at.Sub(now), counted, retry, tc.wantAt, tc.counted, tc.retry)
		}
	}
	if _, _, retry := (retryPolicy{backoff: p.backoff}).next(&ResponseError{StatusCode: 503}, 0, now); retry {
		t.Error("WithMaxRetries(0) retried")
	}
	if got := fmt.Sprint(&ResponseError{StatusCode: 429, RetryAfter: time.Second}); got != "PostHog answered 429 Too Many Requests (Retry-After 1s)" {
		t.Errorf("ResponseError reads %q", got)
	}
}
