package registry

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/multitrack/multitrack/tracker"
)

// Factory builds a fresh sink from its settings. It is called once for each
// tracker that uses the sink, so two trackers never share a sink.
//
// A factory reads its settings through cfg (cfg.Get("URL") reads
// MULTITRACK_<SINK>_URL) and reports every problem it finds, through cfg's
// typed getters or cfg.Invalid, rather than stopping at the first: the
// caller of FromEnv gets them all at once. It returns cfg.Err() when the
// settings are wrong, or the error of building the sink; with an error, it
// returns a nil Sink (not an interface holding a nil pointer) and has
// released whatever it had built.
type Factory func(cfg Config) (tracker.Sink, error)

// None is the value of MULTITRACK_SINKS that selects no sink. It cannot be
// registered.
const None = "none"

var (
	mu        sync.RWMutex
	factories = make(map[string]registration)
)

// registration is one registered sink.
type registration struct {
	name string
	f    Factory
	keys []string // its settings' keys, upper-case, sorted; nil when not declared
}

// Register makes a sink factory available under name, for MULTITRACK_SINKS.
// It is meant to be called from an init function.
//
// A name is lower-case ASCII letters, digits and '_', starting with a letter;
// its settings are the variables MULTITRACK_<NAME>_<KEY>. Register panics,
// as sql.Register does, when f is nil, when the name is empty, invalid,
// reserved ("none", or one whose settings would collide with a global
// variable such as MULTITRACK_QUEUE_SIZE for "queue") or already registered.
//
// keys, when given, are every setting the factory may read ("URL" for
// MULTITRACK_<NAME>_URL), so that a misspelt one is reported with a "did you
// mean" (see Env.OnWarning), even while the sink is not selected. A sink
// that declares none has its settings checked when it is selected: any
// MULTITRACK_<NAME>_* variable set and not read by its factory is reported.
// Register panics on a key that is not letters, digits and '_'.
func Register(name string, f Factory, keys ...string) {
	if f == nil {
		panic("registry: Register of sink " + quote(name) + " with a nil Factory")
	}
	if err := checkName(name); err != nil {
		panic("registry: Register: " + err.Error())
	}
	r := registration{name: name, f: f}
	if len(keys) > 0 {
		r.keys = checkKeys(name, keys)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic("registry: Register called twice for sink " + quote(name))
	}
	factories[name] = r
}

// Sinks returns the names of the registered sinks, sorted.
func Sinks() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// snapshot returns a copy of the registered factories, so that a build does
// not hold the lock while factories run (a factory may call Sinks).
func snapshot() map[string]Factory {
	mu.RLock()
	defer mu.RUnlock()
	m := make(map[string]Factory, len(factories))
	for k, v := range factories {
		m[k] = v.f
	}
	return m
}

// registrations returns every registration, sorted by name.
func registrations() []registration {
	mu.RLock()
	defer mu.RUnlock()
	regs := make([]registration, 0, len(factories))
	for _, r := range factories {
		regs = append(regs, r)
	}
	slices.SortFunc(regs, func(a, b registration) int { return strings.Compare(a.name, b.name) })
	return regs
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty sink name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'a' <= c && c <= 'z' || c == '_' && i > 0 || '0' <= c && c <= '9' && i > 0
		if !ok {
			return fmt.Errorf("sink name %s: want lower-case letters, digits and '_', starting with a letter", quote(name))
		}
	}
	if name == None {
		return fmt.Errorf("sink name %q is reserved: MULTITRACK_SINKS=none selects no sink", None)
	}
	prefix := envPrefix + strings.ToUpper(name) + "_"
	for _, v := range globalVars {
		if strings.HasPrefix(v.name, prefix) {
			return fmt.Errorf("sink name %q is reserved: its settings %s* would include %s", name, prefix, v.name)
		}
	}
	for _, v := range otherVars {
		if v.sink != name && strings.HasPrefix(v.name, prefix) {
			return fmt.Errorf("sink name %q is reserved: its settings %s* would include %s", name, prefix, v.name)
		}
	}
	return nil
}

// quote quotes s for a message, cut to a readable length.
func quote(s string) string {
	const max = 128
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
