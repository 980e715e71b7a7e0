package sampling

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// RateLimit keeps at most limit events per interval for each key (By), so
// that one noisy organization cannot use up everyone's budget: each key has a
// budget of its own. Rather than keeping the first events of an interval and
// none after, it estimates each key's volume from the previous interval (and
// the current one, once it is larger) and keeps every event with probability
// min(1, headroom·limit/volume), returned as the rate. A key under its limit
// keeps everything at rate 1.
//
// The limit is hard; it binds only when a key's volume grows past what was
// estimated within an interval (by more than 1/headroom - 1, about 11% at
// DefaultHeadroom), and in a key's first interval when it exceeds the limit:
// the events dropped then are not accounted for by the rates of the kept ones.
//
// Per-key state is bounded (WithMaxKeys). A RateLimit is safe for concurrent
// use.
type RateLimit struct {
	limit    int64
	interval time.Duration
	headroom float64
	x        *estimator
}

// NewRateLimit returns a RateLimit keeping at most limit events per interval
// and key. It accepts the options By, WithClock, WithMaxKeys and WithHeadroom.
func NewRateLimit(limit int64, interval time.Duration, opts ...Option) (*RateLimit, error) {
	c := newConfig(opts)
	if err := c.check("RateLimit", "By", "WithClock", "WithMaxKeys", "WithHeadroom"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("sampling: RateLimit: %w: limit %d is not positive", ErrBadNumber, limit)
	}
	if interval <= 0 {
		return nil, fmt.Errorf("sampling: RateLimit: %w: interval %v is not positive", ErrBadDuration, interval)
	}
	if err := checkStateful("RateLimit", c); err != nil {
		return nil, err
	}
	if math.IsNaN(c.headroom) || c.headroom <= 0 || c.headroom > 1 {
		return nil, fmt.Errorf("sampling: RateLimit: %w: headroom %v is not in (0, 1]", ErrBadRate, c.headroom)
	}
	goal := max(1, c.headroom*float64(limit))
	return &RateLimit{
		limit: limit, interval: interval, headroom: c.headroom,
		x: newEstimator(c, goal, limit, 1, interval, 2),
	}, nil
}

// checkStateful checks the options shared by the per-key samplers.
func checkStateful(kind string, c config) error {
	if c.maxKeys <= 0 {
		return fmt.Errorf("sampling: %s: %w: max keys %d is not positive", kind, ErrBadNumber, c.maxKeys)
	}
	return nil
}

// Sample keeps e within its key's limit; the rate is the probability it was
// kept with.
func (r *RateLimit) Sample(e tracker.Event) (bool, float64) { return r.x.sample(&e) }

// Inputs returns what the limiter reads: its key, and the event's random
// key, which starts each window's sampling.
func (r *RateLimit) Inputs() tracker.SampleInput { return r.x.inputs() }

// Keys returns how many keys the limiter holds state for.
func (r *RateLimit) Keys() int { return r.x.states.keys() }

// Overflows returns how many events fell into the overflow state because the
// limiter already held WithMaxKeys keys.
func (r *RateLimit) Overflows() uint64 { return r.x.states.overflows.Load() }

// String returns the limiter as a spec writes it, e.g. "rate:100/1s:by=org".
func (r *RateLimit) String() string {
	s := "rate:" + strconv.FormatInt(r.limit, 10) + "/" + r.interval.String() + r.x.states.options()
	if r.headroom != DefaultHeadroom {
		s += ":headroom=" + formatFloat(r.headroom)
	}
	return s
}

// Dynamic aims at a target number of kept events per second for each key
// (By), in the spirit of Honeycomb's dynsampler EMA sampler: frequent keys
// are thinned harder, rare keys are kept. Every window (WithWindow) it
// updates an exponential moving average of each key's volume (WithEMAWeight)
// and keeps each event with probability min(1, target/volume), returned as
// the rate; within a window, a key whose volume already exceeds its average
// is thinned at once. There is no hard limit, so Σ 1/rate over kept events is
// an unbiased estimate of the count.
//
// Per-key state is bounded (WithMaxKeys). A Dynamic is safe for concurrent
// use.
type Dynamic struct {
	perSecond float64
	window    time.Duration
	weight    float64
	x         *estimator
}

// dynamicGenerations is how many windows a Dynamic key may stay idle before
// its average is forgotten.
const dynamicGenerations = 8

// NewDynamic returns a Dynamic keeping about perSecond events per second and
// key. It accepts the options By, WithClock, WithMaxKeys, WithWindow and
// WithEMAWeight.
func NewDynamic(perSecond float64, opts ...Option) (*Dynamic, error) {
	c := newConfig(opts)
	if err := c.check("Dynamic", "By", "WithClock", "WithMaxKeys", "WithWindow", "WithEMAWeight"); err != nil {
		return nil, err
	}
	if math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond <= 0 {
		return nil, fmt.Errorf("sampling: Dynamic: %w: target %v is not a positive number", ErrBadNumber, perSecond)
	}
	if c.window <= 0 {
		return nil, fmt.Errorf("sampling: Dynamic: %w: window %v is not positive", ErrBadDuration, c.window)
	}
	if err := checkStateful("Dynamic", c); err != nil {
		return nil, err
	}
	if math.IsNaN(c.weight) || c.weight <= 0 || c.weight > 1 {
		return nil, fmt.Errorf("sampling: Dynamic: %w: EMA weight %v is not in (0, 1]", ErrBadRate, c.weight)
	}
	goal := perSecond * c.window.Seconds()
	return &Dynamic{
		perSecond: perSecond, window: c.window, weight: c.weight,
		x: newEstimator(c, goal, 0, c.weight, c.window, dynamicGenerations),
	}, nil
}

// Sample keeps e at its key's current rate, and returns that rate.
func (d *Dynamic) Sample(e tracker.Event) (bool, float64) { return d.x.sample(&e) }

// Inputs returns what the sampler reads: its key, and the event's random
// key, which starts each window's sampling.
func (d *Dynamic) Inputs() tracker.SampleInput { return d.x.inputs() }

// Keys returns how many keys the sampler holds state for.
func (d *Dynamic) Keys() int { return d.x.states.keys() }

// Overflows returns how many events fell into the overflow state because the
// sampler already held WithMaxKeys keys.
func (d *Dynamic) Overflows() uint64 { return d.x.states.overflows.Load() }

// String returns the sampler as a spec writes it, e.g.
// "dynamic:200/1s:by=org:window=5s".
func (d *Dynamic) String() string {
	s := "dynamic:" + formatFloat(d.perSecond) + "/1s" + d.x.states.options()
	if d.window != DefaultDynamicWindow {
		s += ":window=" + d.window.String()
	}
	if d.weight != DefaultEMAWeight {
		s += ":weight=" + formatFloat(d.weight)
	}
	return s
}

var (
	_ tracker.InputSampler = (*RateLimit)(nil)
	_ tracker.InputSampler = (*Dynamic)(nil)
)
