// Package keycache is a read-mostly map from strings to values for hot
// paths: a lookup is one atomic load and one map access, with no lock.
package keycache

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Max is the most entries a Map holds, so that a stream of ever-new keys
// costs a computation each but cannot grow memory without bound.
const Max = 4096

// Map is a read-mostly map; a miss copies the map under a lock. The zero
// value is empty and ready.
type Map[V any] struct {
	m  atomic.Pointer[map[string]V]
	mu sync.Mutex
}

// Get returns the value stored for key.
func (c *Map[V]) Get(key string) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[key]
		return v, ok
	}
	var zero V
	return zero, false
}

// Put stores v for key, unless the map holds Max entries already.
func (c *Map[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if len(old) >= Max {
		return
	}
	m := make(map[string]V, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[strings.Clone(key)] = v
	c.m.Store(&m)
}
