package secret

import "sync/atomic"

// verdictSlots is the size of a rule's table of recent verdicts.
const verdictSlots = 512

// verdicts is a rule's first-level cache: a fixed table where a name's
// verdict is found with a cheap hash of the name and one comparison, no
// lock and no map lookup (about 5 ns against a map's 15 to 20, paid for
// every property of every event). Each name has two slots; a name that
// finds both taken replaces one of them, and the map behind (Rule.cache)
// still has it, so that colliding names, even chosen to collide, cost a
// map lookup, never a new verdict.
type verdicts struct {
	slots [verdictSlots]atomic.Pointer[verdict]
}

// verdict is one name's: immutable once published.
type verdict struct {
	name   string
	secret bool
}

func (v *verdicts) get(name string) (secret, ok bool) {
	i := quickHash(name) % verdictSlots
	if e := v.slots[i].Load(); e != nil && e.name == name {
		return e.secret, true
	}
	if e := v.slots[(i+1)%verdictSlots].Load(); e != nil && e.name == name {
		return e.secret, true
	}
	return false, false
}

// put publishes name's verdict; name must not be modified afterwards (the
// caller passes its own copy).
func (v *verdicts) put(name string, secret bool) {
	i := quickHash(name) % verdictSlots
	e := &verdict{name: name, secret: secret}
	if v.slots[i].CompareAndSwap(nil, e) {
		return
	}
	v.slots[(i+1)%verdictSlots].Store(e)
}

// quickHash mixes a name's length and its first and last eight bytes: cheap,
// and enough to spread the property names of a service.
func quickHash(s string) uint64 {
	var a, b uint64
	if n := len(s); n >= 8 {
		a, b = le64(s), le64(s[n-8:])
	} else {
		for i := range n {
			a = a<<8 | uint64(s[i])
		}
	}
	h := (a ^ b*0x9e3779b97f4a7c15 ^ uint64(len(s))) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// le64 reads the first eight bytes of s (one load, once compiled).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
