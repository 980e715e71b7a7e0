package tracker

import (
	"fmt"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// kind is a kind of diagnostic, rate-limited on its own.
type kind int

const (
	kindEmptyName kind = iota
	kindUnencodable
	kindTooLarge
	kindBadTimestamp
	kindPanic
	kindDrop
	kindSinkError
	kindDeadLetter
	kindBadRate
	kindPlan
	kinds
)

// diag is the tracker's own diagnostics: each kind at most once a second
// (zerolog's BurstSampler), so that a flood of bad events cannot flood the
// log. A disabled logger skips the sampler, and the clock, entirely. A nil
// *diag logs nothing.
type diag struct {
	base zerolog.Logger // not rate-limited: WithLogger's
	logs [kinds]zerolog.Logger
}

func newDiag(l zerolog.Logger) *diag {
	d := &diag{base: l}
	for i := range d.logs {
		d.logs[i] = l.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Second})
	}
	return d
}

// Logger returns the logger the tracker's diagnostics go to (WithLogger;
// disabled by default), so that what builds a tracker, such as the
// registry, can log where it logs. A nil or zero Tracker's is disabled.
func (t *Tracker) Logger() zerolog.Logger {
	if t == nil || t.log == nil {
		return zerolog.Nop()
	}
	return t.log.base
}

var nopLogger = zerolog.Nop()

// of returns the logger for one kind of diagnostic. Its events are nil
// when they are not to be logged: build costly fields only after checking.
func (d *diag) of(k kind) *zerolog.Logger {
	if d == nil {
		return &nopLogger
	}
	return &d.logs[k]
}

func (d *diag) drop(sink string) {
	d.of(kindDrop).Warn().Str("sink", sink).Msg("multitrack: queue full; event dropped")
}

func (d *diag) sinkError(sink, op string, n int, err error) {
	d.of(kindSinkError).Error().Str("sink", sink).Str("op", op).Int("events", n).Err(err).Msg("multitrack: sink error")
}

// panicked logs a recovered panic, by type only (see describePanic).
func (d *diag) panicked(sink string, r any, msg string) {
	if ev := d.of(kindPanic).Error(); ev != nil {
		if sink != "" {
			ev = ev.Str("sink", sink)
		}
		ev.Str("panic", describePanic(r)).Msg(msg)
	}
}

// describePanic says what a recovered panic was without its value (which
// may carry event data), except for runtime errors, whose text is the
// runtime's own ("invalid memory address …").
func describePanic(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("a value of type %T", r)
}
