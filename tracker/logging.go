package tracker

import (
	"sync/atomic"
	"time"
)

type limitKind int

const (
	limitEmptyName limitKind = iota
	limitUnencodable
	limitTooLarge
	limitPanic
	limitDrop
	limitSinkError
	limitDeadLetter
	limitBadRate
	limitKinds
)

// logLimiter lets each kind of diagnostic through at most once a second, so
// that a flood of bad events cannot flood the log.
type logLimiter struct {
	off  bool // the logger is disabled: skip even reading the clock
	last [limitKinds]atomic.Int64
}

func (l *logLimiter) do(kind limitKind, f func()) {
	if l.off {
		return
	}
	now := time.Now().UnixNano()
	last := l.last[kind].Load()
	if now-last < int64(time.Second) || !l.last[kind].CompareAndSwap(last, now) {
		return
	}
	f()
}

func (t *Tracker) logDrop(sink string) {
	t.logLimit.do(limitDrop, func() {
		t.log.Warn().Str("sink", sink).Msg("multitrack: queue full; event dropped")
	})
}

func (t *Tracker) logSinkError(sink, op string, n int, err error) {
	t.logLimit.do(limitSinkError, func() {
		t.log.Error().Str("sink", sink).Str("op", op).Int("events", n).Err(err).Msg("multitrack: sink error")
	})
}
