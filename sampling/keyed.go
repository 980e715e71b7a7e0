package sampling

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/multitrack/multitrack/tracker"
)

// keyed holds the per-key state of a stateful sampler, bounded: at most
// maxKeys keys live in the current generation, and events of further keys
// share the overflow state. Every genLen nanoseconds a new generation starts;
// a key seen in the previous generation carries its state over on its next
// event, and a key idle for a whole generation is forgotten. So at most
// 2·maxKeys states are held, however many keys the traffic brings.
type keyed[S any] struct {
	by      Key
	maxKeys int
	genLen  int64

	shared   S // KeyNone: every event; otherwise events without the key
	overflow S

	gen       atomic.Int64
	overflows atomic.Uint64

	mu        sync.RWMutex
	cur, prev map[uint64]*S
}

// newKeyed returns the state of a sampler whose generations last windows
// windows of window nanoseconds each (at most math.MaxInt64 in all).
func newKeyed[S any](by Key, maxKeys int, window, windows int64) *keyed[S] {
	genLen := int64(math.MaxInt64)
	if window <= math.MaxInt64/windows {
		genLen = window * windows
	}
	return &keyed[S]{by: by, maxKeys: maxKeys, genLen: genLen, cur: map[uint64]*S{}}
}

// state returns the state for e's key at time now (nanoseconds).
func (k *keyed[S]) state(e *tracker.Event, now int64) *S {
	h, ok := k.by.hash(e)
	if !ok {
		return &k.shared
	}
	if g := now / k.genLen; g > k.gen.Load() {
		k.rotate(g)
	}
	k.mu.RLock()
	s := k.cur[h]
	k.mu.RUnlock()
	if s != nil {
		return s
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if s = k.cur[h]; s != nil {
		return s
	}
	if len(k.cur) >= k.maxKeys {
		k.overflows.Add(1)
		return &k.overflow
	}
	if s = k.prev[h]; s != nil {
		delete(k.prev, h)
	} else {
		s = new(S)
	}
	k.cur[h] = s
	return s
}

// rotate starts generation g: the current keys become the previous ones
// (forgotten altogether when a whole generation went by without events).
func (k *keyed[S]) rotate(g int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.gen.Load()
	if g <= old {
		return
	}
	if g == old+1 {
		k.prev = k.cur
	} else {
		k.prev = nil
	}
	k.cur = make(map[uint64]*S, len(k.prev))
	k.gen.Store(g)
}

// options returns the by= and keys= options of a spec that rebuild k.
func (k *keyed[S]) options() string {
	s := byOption(k.by)
	if k.maxKeys != DefaultMaxKeys {
		s += ":keys=" + strconv.Itoa(k.maxKeys)
	}
	return s
}

// keys returns the number of keys held, current and previous generation.
func (k *keyed[S]) keys() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.cur) + len(k.prev)
}
