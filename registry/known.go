package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors of the warnings about variables that are set but have no
// effect. They are warnings, never part of FromLookup's error: see
// Env.OnWarning.
var (
	// ErrUnknownVariable: a MULTITRACK_* or POSTHOG_* variable that no part
	// of multitrack reads (a typo, most often).
	ErrUnknownVariable = errors.New("unknown variable")
	// ErrSinkNotSelected: a setting of a registered sink that
	// MULTITRACK_SINKS does not select.
	ErrSinkNotSelected = errors.New("setting of a sink that is not selected")
)

const posthogPrefix = "POSTHOG_"

// otherVars are the variables read outside the registry and outside the
// factories of the sinks registered here: by commands (multitrack relay,
// multitrack serve) and by sinks those commands use too. They are never
// unknown. sink names the sink whose settings they also are: such a sink
// may still be registered, and its variables are never reported as
// settings of a sink that is not selected (the relay reads them without it).
var otherVars = []struct{ name, sink string }{
	{"POSTHOG_HOST", "posthog"},
	{"MULTITRACK_NATS_URL", "nats"},
	{"MULTITRACK_NATS_STREAM", "nats"},
	{"MULTITRACK_NATS_SUBJECT", "nats"},
	{"MULTITRACK_NATS_REPLICAS", "nats"},
	{"MULTITRACK_NATS_MAX_AGE", "nats"},
	{"MULTITRACK_NATS_CREDS", "nats"},
	{"MULTITRACK_NATS_TOKEN", "nats"},
	{"MULTITRACK_SERVE_API_KEYS", ""},
	{"MULTITRACK_SERVE_ACK", ""},
	{"MULTITRACK_SERVE_RATE", ""},
	{"MULTITRACK_RELAY_CONSUMER", ""},
	{"MULTITRACK_RELAY_MAX_DELIVER", ""},
}

// isOtherVar reports whether name is one of otherVars or globalVars.
func isKnownGlobal(name string) bool {
	for _, v := range globalVars {
		if v.name == name {
			return true
		}
	}
	for _, v := range otherVars {
		if v.name == name {
			return true
		}
	}
	return false
}

// checkKeys panics unless every key is a valid setting key; it returns them
// upper-cased.
func checkKeys(sink string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		k = strings.ToUpper(k)
		ok := k != "" && k[0] != '_' && k[len(k)-1] != '_'
		for j := 0; j < len(k); j++ {
			c := k[j]
			ok = ok && ('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_')
		}
		if !ok {
			panic("registry: Register of sink " + quote(sink) + ": setting key " + quote(keys[i]) + ": want letters, digits and '_'")
		}
		out[i] = k
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkVariables records a warning for every MULTITRACK_* and POSTHOG_*
// variable that is set but has no effect. names are the variables set in
// the environment, when it can list them (Env.Environ); the declared
// settings of every registered sink are looked up too, so that a setting
// of a sink that is not selected is found even when it cannot.
func (l *loader) checkVariables(names []string) {
	regs := registrations()
	selected := make(map[string]bool, len(l.sinkNames))
	for _, s := range l.sinkNames {
		selected[s] = true
	}
	for _, r := range regs {
		for _, k := range r.keys {
			names = append(names, varName(r.name, k))
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if w := l.checkVariable(name, regs, selected); w != nil {
			l.warnings = append(l.warnings, &VarError{Var: name, Err: w})
		}
	}
}

// checkVariable returns why the variable name has no effect, or nil.
func (l *loader) checkVariable(name string, regs []registration, selected map[string]bool) error {
	upper := strings.ToUpper(name)
	if !strings.HasPrefix(upper, envPrefix) && !strings.HasPrefix(upper, posthogPrefix) {
		return nil
	}
	if _, read := l.index[name]; read || isKnownGlobal(name) {
		return nil
	}
	if v, ok := l.lookup(name); !ok || strings.TrimSpace(v) == "" {
		return nil // unset: an empty value is the same
	}
	sink, key := sinkOf(upper, regs)
	switch {
	case name != upper:
		// Variables are case-sensitive: multitrack_sinks is not read.
		return unknownVariable(l.suggest(name, regs))
	case sink == nil:
		return unknownVariable(l.suggest(name, regs))
	case !selected[sink.name]:
		if len(sink.keys) > 0 && !slices.Contains(sink.keys, key) {
			return unknownVariable(l.suggest(name, regs))
		}
		return fmt.Errorf("%w, ignored: %s selects %s, not %s", ErrSinkNotSelected, varSinks, l.selectedText(), sink.name)
	case slices.Contains(sink.keys, key):
		return nil // declared, and not needed by this configuration
	default:
		return unknownVariable(l.suggest(name, regs))
	}
}

func unknownVariable(suggestion string) error {
	if suggestion == "" {
		return fmt.Errorf("%w, ignored", ErrUnknownVariable)
	}
	return fmt.Errorf("%w, ignored; did you mean %s?", ErrUnknownVariable, suggestion)
}

func (l *loader) selectedText() string {
	if len(l.sinkNames) == 0 {
		return "no sink"
	}
	return strings.Join(l.sinkNames, ", ")
}

// sinkOf returns the registered sink whose settings the upper-cased
// variable name would be, the longest name first (sinks "my" and "my_app"),
// and the key.
func sinkOf(upper string, regs []registration) (*registration, string) {
	var best *registration
	key := ""
	for i := range regs {
		prefix := envPrefix + strings.ToUpper(regs[i].name) + "_"
		if strings.HasPrefix(upper, prefix) && (best == nil || len(regs[i].name) > len(best.name)) {
			best, key = &regs[i], upper[len(prefix):]
		}
	}
	return best, key
}

// suggest returns the known variable closest to name, or "": the
// registry's, those read by the sinks built, and those registered sinks
// declare.
func (l *loader) suggest(name string, regs []registration) string {
	var candidates []string
	for _, r := range regs {
		for _, k := range r.keys {
			candidates = append(candidates, varName(r.name, k))
		}
	}
	for _, v := range l.vars {
		candidates = append(candidates, v.name)
	}
	for _, v := range globalVars {
		candidates = append(candidates, v.name)
	}
	for _, v := range otherVars {
		candidates = append(candidates, v.name)
	}
	return closest(name, candidates, varDistance)
}

func varName(sink, key string) string { return envPrefix + strings.ToUpper(sink) + "_" + key }
