package tracker

import (
	"strings"
	"sync"
	"sync/atomic"
)

// keyCache is a read-mostly map from strings to values: lookups are one
// atomic load and one map access, with no lock; a miss copies the map under a
// lock. It holds at most keyCacheMax entries, so a stream of ever-new keys
// costs a computation each but cannot grow memory without bound.
type keyCache[V any] struct {
	m  atomic.Pointer[map[string]V]
	mu sync.Mutex
}

const keyCacheMax = 4096

func (c *keyCache[V]) get(key string) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[key]
		return v, ok
	}
	var zero V
	return zero, false
}

func (c *keyCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if len(old) >= keyCacheMax {
		return
	}
	m := make(map[string]V, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[strings.Clone(key)] = v
	c.m.Store(&m)
}
