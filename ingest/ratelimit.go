package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a per-project-key limit on events: a token bucket refilled at
// Events per Per, holding at most Burst. The zero Rate is no limit.
type Rate struct {
	Events int64         // events allowed per Per
	Per    time.Duration // the period
	Burst  int           // the bucket's size; 0 means Events
}

// IsZero reports whether r sets no limit.
func (r Rate) IsZero() bool { return r.Events <= 0 || r.Per <= 0 }

// String returns r as ParseRate reads it, e.g. "1000/1s:burst=5000".
func (r Rate) String() string {
	if r.IsZero() {
		return "none"
	}
	s := strconv.FormatInt(r.Events, 10) + "/" + r.Per.String()
	if r.Burst > 0 {
		s += ":burst=" + strconv.Itoa(r.Burst)
	}
	return s
}

func (r Rate) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return int(min(r.Events, math.MaxInt32))
}

// ParseRate reads a rate as MULTITRACK_SERVE_RATE spells it: N/DURATION with
// an optional :burst=B, e.g. "1000/s", "50000/1m:burst=5000". "" and "none"
// are no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return Rate{}, nil
	}
	spec, opt, hasOpt := strings.Cut(s, ":")
	num, dur, ok := strings.Cut(spec, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/DURATION, e.g. 1000/s or 1000/s:burst=5000", s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a whole number of events from 1 to %d", s, num, math.MaxInt32)
	}
	dur = strings.TrimSpace(dur)
	if dur != "" && strings.Trim(dur, "nsuµmh") == "" {
		dur = "1" + dur // "s" is one second
	}
	d, err := time.ParseDuration(dur)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a positive duration such as s, 10s or 1m", s, dur)
	}
	r := Rate{Events: n, Per: d}
	if hasOpt {
		v, ok := strings.CutPrefix(strings.TrimSpace(opt), "burst=")
		b, err := strconv.Atoi(v)
		if !ok || err != nil || b <= 0 {
			return Rate{}, fmt.Errorf("rate %q: %q: want burst=B with B a positive whole number", s, opt)
		}
		r.Burst = b
	}
	return r, nil
}

// maxLimiters bounds the buckets kept when any key is accepted: past it,
// all are forgotten (and refilled) at once.
const maxLimiters = 10000

// keyLimiter holds one token bucket per project key.
type keyLimiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newKeyLimiter(r Rate, now func() time.Time) *keyLimiter {
	if r.IsZero() {
		return nil
	}
	return &keyLimiter{rate: r, now: now, buckets: make(map[string]*rate.Limiter)}
}

// allow takes n tokens from key's bucket, or says how long to wait before
// asking again. A request larger than the bucket takes the whole bucket, so
// that it can pass at all.
func (l *keyLimiter) allow(key string, n int) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxLimiters {
			clear(l.buckets)
		}
		b = rate.NewLimiter(rate.Limit(float64(l.rate.Events)/l.rate.Per.Seconds()), l.rate.burst())
		l.buckets[key] = b
	}
	l.mu.Unlock()
	n = min(n, b.Burst())
	now := l.now()
	if b.AllowN(now, n) {
		return true, 0
	}
	r := b.ReserveN(now, n)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}
