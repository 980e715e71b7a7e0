package sampling

import (
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// Burst keeps the first N events of every period (per key, By), at rate 1,
// and hands the rest to a fallback sampler (Then; Never by default), as
// zerolog's BurstSampler does. Periods are aligned on the clock's epoch
// (multiples of the period).
//
// Σ 1/rate over kept events estimates the count when the fallback's rates do.
// Per-key state is bounded (WithMaxKeys). A Burst is lock-free and safe for
// concurrent use.
type Burst struct {
	n      uint32
	period int64
	then   tracker.Sampler
	clock  func() time.Time
	states *keyed[burstState]
}

// burstState packs a period's index (its low 32 bits) and the number of
// events kept in it into one word, so that both change in one CAS.
type burstState struct{ v atomic.Uint64 }

// NewBurst returns a Burst keeping the first n events of every period. It
// accepts the options By, Then, WithClock and WithMaxKeys.
func NewBurst(n int64, period time.Duration, opts ...Option) (*Burst, error) {
	c := newConfig(opts)
	if err := c.check("Burst", "By", "Then", "WithClock", "WithMaxKeys"); err != nil {
		return nil, err
	}
	if n <= 0 || n > math.MaxUint32 {
		return nil, fmt.Errorf("sampling: Burst: %w: burst %d is not in [1, %d]", ErrBadNumber, n, uint32(math.MaxUint32))
	}
	if period <= 0 {
		return nil, fmt.Errorf("sampling: Burst: %w: period %v is not positive", ErrBadDuration, period)
	}
	if err := checkStateful("Burst", c); err != nil {
		return nil, err
	}
	return &Burst{
		n: uint32(n), period: int64(period), then: c.then, clock: c.clock,
		states: newKeyed[burstState](c.by, c.maxKeys, int64(period), 2),
	}, nil
}

// Sample keeps e at rate 1 while its key's burst lasts, then asks the
// fallback.
func (b *Burst) Sample(e tracker.Event) (bool, float64) {
	now := b.clock().UnixNano()
	s := b.states.state(&e, now)
	win := uint64(uint32(now / b.period))
	for {
		v := s.v.Load()
		next := win<<32 | 1
		if v>>32 == win {
			if uint32(v) >= b.n {
				return b.then.Sample(e)
			}
			next = v + 1
		}
		if s.v.CompareAndSwap(v, next) {
			return true, 1
		}
	}
}

// Inputs returns what the sampler reads: its key, and what its fallback
// reads.
func (b *Burst) Inputs() tracker.SampleInput {
	return b.states.by.inputs() | tracker.InputsOf(b.then)
}

// Keys returns how many keys the sampler holds state for.
func (b *Burst) Keys() int { return b.states.keys() }

// Overflows returns how many events fell into the overflow state because the
// sampler already held WithMaxKeys keys.
func (b *Burst) Overflows() uint64 { return b.states.overflows.Load() }

// String returns the sampler as a spec writes it, e.g.
// "burst:50/1m0s:then=0.1:by=org".
func (b *Burst) String() string {
	s := "burst:" + strconv.FormatUint(uint64(b.n), 10) + "/" + time.Duration(b.period).String()
	if _, never := b.then.(Never); !never {
		s += ":then=" + thenString(b.then)
	}
	return s + b.states.options()
}

// thenString writes a fallback sampler as a spec's then= value.
func thenString(s tracker.Sampler) string {
	switch s := s.(type) {
	case Always:
		return "1"
	case *Ratio:
		if s.by == KeyNone {
			return formatFloat(s.p)
		}
	}
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}

var _ tracker.InputSampler = (*Burst)(nil)
