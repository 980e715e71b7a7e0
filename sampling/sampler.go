package sampling

import (
	"fmt"
	"math"
	"strconv"

	"github.com/multitrack/multitrack/internal/uuidv7"
	"github.com/multitrack/multitrack/tracker"
)

// Always keeps every event, at rate 1.
type Always struct{}

// Sample keeps e at rate 1.
func (Always) Sample(tracker.Event) (bool, float64) { return true, 1 }

// String returns "always".
func (Always) String() string { return "always" }

// Inputs returns none: Always reads nothing.
func (Always) Inputs() tracker.SampleInput { return 0 }

// Never drops every event.
type Never struct{}

// Sample drops e.
func (Never) Sample(tracker.Event) (bool, float64) { return false, 0 }

// String returns "never".
func (Never) String() string { return "never" }

// Inputs returns none: Never reads nothing.
func (Never) Inputs() tracker.SampleInput { return 0 }

// keySpace is 2^62, the range of Event.UUIDRandom and of the key hashes a
// Ratio compares.
const keySpace = 1 << uuidv7.RandomBits

// Ratio keeps a fraction p of events, deterministically: an event is kept when
// its key, uniform in [0, 2^62), is below p·2^62. The key is the event's
// UUIDRandom by default, so that one event gets the same decision in every
// process; keyed (By) by an organization or a property such as trace_id, all
// events with the same value are kept or dropped together, in every process,
// as with OpenTelemetry's TraceIDRatioBased. An event without the named value
// falls back to its own UUIDRandom.
//
// A Ratio is immutable and safe for concurrent use.
type Ratio struct {
	p         float64
	threshold uint64
	by        Key
}

// NewRatio returns a Ratio keeping p of the events, p in [0, 1]. It accepts
// the option By.
func NewRatio(p float64, opts ...Option) (*Ratio, error) {
	c := newConfig(opts)
	if err := c.check("Ratio", "By"); err != nil {
		return nil, err
	}
	if err := checkProbability(p); err != nil {
		return nil, fmt.Errorf("sampling: Ratio: %w", err)
	}
	return &Ratio{p: p, threshold: uint64(p * keySpace), by: c.by}, nil
}

// checkProbability accepts p in [0, 1].
func checkProbability(p float64) error {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("%w: %v is not in [0, 1]", ErrBadRate, p)
	}
	return nil
}

// Sample keeps e when its key falls below the ratio, at rate p.
func (r *Ratio) Sample(e tracker.Event) (bool, float64) {
	if r.by.kind == keyNone {
		return e.UUIDRandom() < r.threshold, r.p
	}
	bits, ok := r.by.hash(&e)
	if ok {
		bits &= keySpace - 1
	} else {
		bits = e.UUIDRandom()
	}
	return bits < r.threshold, r.p
}

// Inputs returns what the ratio reads: the organization or distinct id
// when keyed by one, and the event's random key, which it falls back to
// when the keyed value is missing (never for the event's name).
func (r *Ratio) Inputs() tracker.SampleInput {
	if r.by.kind == keyName {
		return 0
	}
	return tracker.InputKey | r.by.inputs()
}

// P returns the ratio's probability.
func (r *Ratio) P() float64 { return r.p }

// String returns the ratio as a spec writes it, e.g. "ratio:0.01:by=org".
func (r *Ratio) String() string {
	return "ratio:" + formatFloat(r.p) + byOption(r.by)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func byOption(k Key) string {
	if k == KeyNone {
		return ""
	}
	return ":by=" + k.String()
}

var (
	_ tracker.InputSampler = Always{}
	_ tracker.InputSampler = Never{}
	_ tracker.InputSampler = (*Ratio)(nil)
)
