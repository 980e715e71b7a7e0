package sampling_test

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

// fakeEpoch is where every fake clock starts: on a whole second, so that
// the samplers' windows start with the simulation.
var fakeEpoch = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC).UnixNano()

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(fakeEpoch)
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Since is the time elapsed since the clock started.
func (c *fakeClock) Since() time.Duration {
	return time.Duration(c.ns.Load() - fakeEpoch)
}

// uuidFor builds a canonical UUIDv7 string whose random bits (rand_b) are
// the 62 low bits of r, as tracker.Event.UUIDRandom reads them back.
func uuidFor(r uint64) string {
	const hex = "0123456789abcdef"
	b := []byte("0190f3c4-0000-7000-0000-000000000000")
	r = 1<<63 | r&(1<<62-1) // the variant bits, then rand_b
	for i := 35; i >= 19; i-- {
		if b[i] == '-' {
			continue
		}
		b[i] = hex[r&15]
		r >>= 4
	}
	return string(b)
}

// event returns an event with a random UUID drawn from rng.
func event(rng *rand.Rand, name, org string) tracker.Event {
	e := tracker.Event{Name: name, UUID: uuidFor(rng.Uint64())}
	if org != "" {
		e.Groups = map[string]string{tracker.GroupOrganization: org}
	}
	return e
}

// binomialBound is 4 standard deviations of a Binomial(n, p).
func binomialBound(n int, p float64) float64 {
	return 4 * math.Sqrt(float64(n)*p*(1-p))
}

// htTally accumulates a Horvitz–Thompson estimate: Σ 1/rate over kept events,
// and the variance of the estimate were each event kept independently with
// its rate, Σ (1-rate)/rate over all events (the samplers' systematic
// sampling does no worse).
type htTally struct {
	n, kept       int
	estimate, vHT float64
}

func (h *htTally) add(keep bool, rate float64) {
	h.n++
	if rate > 0 {
		h.vHT += (1 - rate) / rate
	}
	if keep {
		h.kept++
		h.estimate += 1 / rate
	}
}

// check fails t unless the estimate is within 4 standard deviations (and
// one event, for rounding) of the true count.
func (h *htTally) check(t *testing.T, what string) {
	t.Helper()
	tol := 4*math.Sqrt(h.vHT) + 1
	if math.Abs(h.estimate-float64(h.n)) > tol {
		t.Errorf("%s: Horvitz–Thompson estimate %.1f of %d events (kept %d) is off by more than %.1f", what, h.estimate, h.n, h.kept, tol)
	}
}

// segmentTally checks the tighter bound of systematic sampling (RateLimit,
// Dynamic). Within one key's window the rates never rise, so the estimate's
// error is below 2/min(rate) + 1; the windows' errors are independent and
// have mean zero, so by Hoeffding's inequality the total error exceeds
// 4.5·sqrt(Σ bound²) with probability below 1e-4.
type segmentTally struct {
	n, estimate float64
	minRate     map[string]float64
}

func (s *segmentTally) add(segment string, keep bool, rate float64) {
	if s.minRate == nil {
		s.minRate = map[string]float64{}
	}
	s.n++
	if keep {
		s.estimate += 1 / rate
	}
	if r, ok := s.minRate[segment]; !ok || rate < r {
		s.minRate[segment] = rate
	}
}

func (s *segmentTally) check(t *testing.T, what string) {
	t.Helper()
	var sum float64
	for _, r := range s.minRate {
		b := 2/r + 1
		sum += b * b
	}
	tol := 4.5 * math.Sqrt(sum)
	if math.Abs(s.estimate-s.n) > tol {
		t.Errorf("%s: estimate %.1f of %.0f events is off by more than %.1f (systematic bound over %d windows)", what, s.estimate, s.n, tol, len(s.minRate))
	}
}
