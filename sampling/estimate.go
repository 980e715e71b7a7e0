package sampling

import (
	"math"
	"sync"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// estimator is the engine shared by RateLimit and Dynamic. Per key, it counts
// the events of each window and keeps an estimate of a window's volume (an
// exponential moving average of past windows, floored by the count so far in
// this window, so that a surge is thinned at once). An event's rate is
// min(1, goal/estimate), and the events of a window are kept by systematic
// sampling: an accumulator, started at a uniform point drawn from the
// window's first event's UUIDRandom, grows by each event's rate and keeps the
// event whenever it crosses an integer. Each event is kept with probability
// exactly its rate (its rate depends only on earlier events), so Σ 1/rate over
// kept events is an unbiased estimate of the count, and a steady key keeps
// goal events a window, with no binomial noise.
type estimator struct {
	goal   float64 // kept events a window that the rates aim at
	limit  int64   // hard limit of kept events a window; 0 for none
	weight float64 // weight of the newest window in the moving average
	window int64   // nanoseconds
	clock  func() time.Time
	states *keyed[estimate]
}

// estimate is one key's state.
type estimate struct {
	mu      sync.Mutex
	started bool
	first   bool    // the current window is the key's first
	from    int64   // time of the key's first event
	win     int64   // index of the current window
	seen    float64 // events seen in the current window
	kept    int64   // events kept in the current window
	avg     float64 // moving average of past windows' counts
	acc     float64 // systematic sampling accumulator, in [0, 1)
}

func newEstimator(c config, goal float64, limit int64, weight float64, window time.Duration, genWindows int64) *estimator {
	w := int64(window)
	return &estimator{
		goal: goal, limit: limit, weight: weight, window: w, clock: c.clock,
		states: newKeyed[estimate](c.by, c.maxKeys, w, genWindows),
	}
}

// inputs is what an estimator reads of the fields Capture fills in.
func (x *estimator) inputs() tracker.SampleInput {
	return tracker.InputKey | x.states.by.inputs()
}

func (x *estimator) sample(e *tracker.Event) (bool, float64) {
	now := x.clock().UnixNano()
	s := x.states.state(e, now)
	w := now / x.window

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || w > s.win {
		x.roll(s, now, w, e.UUIDRandom())
	}
	s.seen++
	rate := min(1, x.goal/max(s.avg, s.seen))
	s.acc += rate
	if s.acc < 1 {
		return false, rate
	}
	s.acc--
	if x.limit > 0 && s.kept >= x.limit {
		return false, rate
	}
	s.kept++
	return true, rate
}

// roll starts window w for s, folding the windows that ended into the
// average. A key's first window is partial (from its first event on): its
// count is extrapolated to the whole window.
func (x *estimator) roll(s *estimate, now, w int64, bits uint64) {
	if !s.started {
		s.started, s.first, s.from = true, true, now
	} else {
		count := s.seen
		if s.first {
			covered := float64((s.win+1)*x.window-s.from) / float64(x.window)
			s.avg, s.first = count/max(covered, minCovered), false
		} else {
			s.avg = x.weight*count + (1-x.weight)*s.avg
		}
		if idle := w - s.win - 1; idle > 0 {
			s.avg *= math.Pow(1-x.weight, float64(idle))
		}
	}
	s.win, s.seen, s.kept = w, 0, 0
	s.acc = float64(bits) / keySpace
}

// minCovered bounds the extrapolation of a key's first, partial window.
const minCovered = 0.25
