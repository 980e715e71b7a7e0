package tracker

import (
	stdjson "encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/secret"
)

// DefaultRedactedKeys returns the words that, by default, mark a property
// key as secret or as carrying SQL text. See WithRedactedKeys for how they
// match.
func DefaultRedactedKeys() []string { return secret.DefaultWords() }

// redactValue returns v without the secret keys of the maps and structs
// nested in it, and whether it changed anything; it copies only what
// changes, and visits each value once. A typed container (a
// []map[string]any, a struct) that holds a secret, as the walker finds, is
// replaced by its JSON form (maps, slices, strings, json.Number), redacted.
func redactValue(v any, rule *secret.Rule) (any, bool) {
	switch x := v.(type) {
	case nil, string, bool, float64, int, int64, stdjson.Number, time.Time:
		return v, false
	case map[string]any:
		type entry struct {
			k string
			v any
		}
		kept := make([]entry, 0, len(x))
		changed := false
		for k, e := range x {
			if rule.Match(k) {
				changed = true
				continue
			}
			r, ch := redactValue(e, rule)
			changed = changed || ch
			kept = append(kept, entry{k, r})
		}
		if !changed {
			return v, false
		}
		out := make(map[string]any, len(kept))
		for _, e := range kept {
			out[e.k] = e.v
		}
		return out, true
	case map[string]string:
		var out map[string]string
		for k := range x {
			if rule.Match(k) {
				if out == nil {
					out = maps.Clone(x)
				}
				delete(out, k)
			}
		}
		if out != nil {
			return out, true
		}
		return v, false
	case []any:
		var out []any
		for i, e := range x {
			if r, ch := redactValue(e, rule); ch {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = r
			}
		}
		if out != nil {
			return out, true
		}
		return v, false
	}
	// Other containers: only when they hold a secret, through their JSON form.
	w := json.Walker{Rule: rule}
	if _, err := w.Measure(v, false); err != nil || w.Secrets == 0 {
		return v, false
	}
	generic, err := json.Generic(v)
	if err != nil {
		return nil, true // cannot be rewritten without its secret: dropped whole
	}
	r, _ := redactValue(generic, rule)
	return r, true
}
