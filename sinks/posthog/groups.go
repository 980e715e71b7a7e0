package posthog

import (
	"reflect"
	"slices"
	"sync"

	"github.com/google/uuid"
	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/tracker"
)

// groupKey names one group, e.g. {"organization", "org_42"}.
type groupKey struct{ typ, key string }

// groupIdentifier sends $groupidentify messages for WithGroupProperties.
// identify runs on the Write goroutine; acknowledge on posthog-go's.
type groupIdentifier struct {
	keys  map[string][]string
	types []string // sorted: a deterministic order of messages
	max   int

	mu       sync.Mutex
	last     map[groupKey]map[string]any // properties last sent per group
	inflight map[string]groupKey         // $groupidentify UUID -> group
}

func newGroupIdentifier(keys map[string][]string, max int) *groupIdentifier {
	g := &groupIdentifier{
		keys:     keys,
		max:      max,
		last:     make(map[groupKey]map[string]any),
		inflight: make(map[string]groupKey),
	}
	for t := range keys {
		g.types = append(g.types, t)
	}
	slices.Sort(g.types)
	return g
}

// identify enqueues a $groupidentify for each group of e whose properties,
// as carried by e, differ from those last sent.
func (g *groupIdentifier) identify(s *Sink, e *tracker.Event) {
	for _, typ := range g.types {
		key := e.Groups[typ]
		if key == "" {
			continue
		}
		var set map[string]any
		for _, k := range g.keys[typ] {
			if v, ok := e.Properties[k]; ok {
				if set == nil {
					set = make(map[string]any, len(g.keys[typ]))
				}
				set[k] = v
			}
		}
		if set == nil {
			continue
		}
		gk := groupKey{typ, key}
		g.mu.Lock()
		if reflect.DeepEqual(g.last[gk], set) {
			g.mu.Unlock()
			continue
		}
		u := uuid.Must(uuid.NewV7()).String()
		if len(g.last) >= g.max {
			clear(g.last) // forget all: at worst, groups are identified again
		}
		g.last[gk] = set
		g.inflight[u] = gk
		g.mu.Unlock()

		props := make(ph.Properties, len(set))
		for k, v := range set {
			props[k] = v
		}
		s.stats.groupIdentifies.Add(1)
		err := enqueueSafely(s.enqueue, ph.GroupIdentify{
			Type: typ, Key: key, Uuid: u, Timestamp: e.Timestamp, Properties: props,
		})
		if err != nil {
			g.acknowledge(u, err)
			s.stats.groupIdentifyFailures.Add(1)
		}
	}
}

// acknowledge handles posthog-go's report on a message, if it is a
// $groupidentify: a failed one is forgotten, so that the next event carrying
// the group's properties sends them again. It says whether u was one.
func (g *groupIdentifier) acknowledge(u string, failure error) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	gk, ok := g.inflight[u]
	if !ok {
		return false
	}
	delete(g.inflight, u)
	if failure != nil {
		delete(g.last, gk)
	}
	return true
}
