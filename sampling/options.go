package sampling

import (
	"fmt"
	"slices"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// Defaults of the options.
const (
	// DefaultMaxKeys bounds the per-key state of RateLimit, Burst and Dynamic:
	// events of further keys share one overflow state.
	DefaultMaxKeys = 4096
	// DefaultHeadroom is the share of a RateLimit's limit that its estimated
	// rate aims at, so that ordinary fluctuations stay under the hard limit.
	DefaultHeadroom = 0.9
	// DefaultDynamicWindow is how often Dynamic re-estimates each key's volume.
	DefaultDynamicWindow = 5 * time.Second
	// DefaultEMAWeight is the weight of the newest window in Dynamic's
	// exponential moving average of each key's volume.
	DefaultEMAWeight = 0.5
)

// Option configures a sampler built by NewRatio, NewRateLimit, NewBurst or
// NewDynamic. An option a sampler has no use for is an error.
type Option func(*config)

type config struct {
	by       Key
	clock    func() time.Time
	maxKeys  int
	headroom float64
	window   time.Duration
	weight   float64
	then     tracker.Sampler
	set      map[string]bool // options given, for the "does not apply" check
}

func newConfig(opts []Option) config {
	c := config{
		clock:    time.Now,
		maxKeys:  DefaultMaxKeys,
		headroom: DefaultHeadroom,
		window:   DefaultDynamicWindow,
		weight:   DefaultEMAWeight,
		then:     Never{},
		set:      map[string]bool{},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// check returns an error naming an option given that kind has no use for, or
// a nil clock or fallback sampler.
func (c *config) check(kind string, names ...string) error {
	for name := range c.set {
		if !slices.Contains(names, name) {
			return fmt.Errorf("sampling: option %s does not apply to %s", name, kind)
		}
	}
	if c.clock == nil {
		return fmt.Errorf("sampling: %s: WithClock(nil)", kind)
	}
	if c.then == nil {
		return fmt.Errorf("sampling: %s: Then(nil)", kind)
	}
	return nil
}

// By keys the sampler's decisions (Ratio) or its per-key state (RateLimit,
// Burst, Dynamic) by k. The default is KeyNone.
func By(k Key) Option {
	return func(c *config) { c.by, c.set["By"] = k, true }
}

// WithClock replaces time.Now, for tests that control time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		c.clock, c.set["WithClock"] = now, true
	}
}

// WithMaxKeys bounds the number of keys a stateful sampler tracks at once
// (DefaultMaxKeys). Events of keys beyond it share one overflow state.
func WithMaxKeys(n int) Option {
	return func(c *config) { c.maxKeys, c.set["WithMaxKeys"] = n, true }
}

// WithHeadroom sets the share of a RateLimit's limit that its rate aims at
// (DefaultHeadroom), in (0, 1].
func WithHeadroom(h float64) Option {
	return func(c *config) { c.headroom, c.set["WithHeadroom"] = h, true }
}

// WithWindow sets how often Dynamic re-estimates each key's volume
// (DefaultDynamicWindow).
func WithWindow(d time.Duration) Option {
	return func(c *config) { c.window, c.set["WithWindow"] = d, true }
}

// WithEMAWeight sets the weight of the newest window in Dynamic's moving
// average (DefaultEMAWeight), in (0, 1].
func WithEMAWeight(w float64) Option {
	return func(c *config) { c.weight, c.set["WithEMAWeight"] = w, true }
}

// Then sets the sampler Burst defers to once a period's burst is used up
// (default Never).
func Then(s tracker.Sampler) Option {
	return func(c *config) {
		c.then, c.set["Then"] = s, true
	}
}
