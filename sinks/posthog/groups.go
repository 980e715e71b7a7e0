package posthog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	ph "github.com/posthog/posthog-go"

	"github.com/multitrack/multitrack/tracker"
)

// groupKey names one group, e.g. {"organization", "org_42"}.
type groupKey struct{ typ, key string }

// groupIdentifier remembers the group properties last sent per group for
// WithGroupProperties, so that a $groupidentify goes out only on change.
type groupIdentifier struct {
	keys  map[string][]string
	types []string // sorted: a deterministic order of messages
	max   int

	mu   sync.Mutex
	last map[groupKey]map[string]any // properties last sent per group
}

func newGroupIdentifier(keys map[string][]string, max int) *groupIdentifier {
	return &groupIdentifier{
		keys:  keys,
		types: slices.Sorted(maps.Keys(keys)),
		max:   max,
		last:  make(map[groupKey]map[string]any),
	}
}

// changed returns a $groupidentify for each group of e whose properties, as
// carried by e, differ from those last sent, and remembers them as sent.
func (g *groupIdentifier) changed(e *tracker.Event) []ph.GroupIdentify {
	var out []ph.GroupIdentify
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
		same := reflect.DeepEqual(g.last[gk], set)
		if !same {
			if len(g.last) >= g.max {
				clear(g.last) // forget all: at worst, groups are identified again
			}
			g.last[gk] = set
		}
		g.mu.Unlock()
		if !same {
			out = append(out, ph.GroupIdentify{
				Type: typ, Key: key, Uuid: uuid.Must(uuid.NewV7()).String(),
				Timestamp: e.Timestamp, Properties: ph.Properties(maps.Clone(set)),
			})
		}
	}
	return out
}

// forget drops what was last sent for a group (its $groupidentify was not
// delivered), so that its next event carrying the properties sends them.
func (g *groupIdentifier) forget(typ, key string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	delete(g.last, groupKey{typ, key})
	g.mu.Unlock()
}

// identifyGroups hands gen a $groupidentify for each group of e whose
// properties changed (WithGroupProperties). s.mu is read-held.
func (s *Sink) identifyGroups(gen *generation, e *tracker.Event) {
	for _, gi := range s.groups.changed(e) {
		s.stats.groupIdentifies.Add(1)
		if err := s.sendIdentify(gen, gi); err != nil {
			s.groups.forget(gi.Type, gi.Key)
			s.stats.groupIdentifyFailures.Add(1)
		}
	}
}

// sendIdentify tracks gi and hands it to gen; on refusal it is untracked.
func (s *Sink) sendIdentify(gen *generation, gi ph.GroupIdentify) error {
	s.ledger.add([]string{gi.Uuid}, []pending{{identify: &gi}})
	err := gen.send(gi)
	if err != nil {
		if p, ok := s.ledger.take(gi.Uuid, nil); ok {
			s.ledger.settle(p.seq)
		}
	}
	return err
}

// GroupIdentify sets properties of one PostHog group, e.g. an
// organization's plan, with a $groupidentify sent like an event: with the
// next batch, at once on Flush, retried like events. It returns an error
// when it cannot hand the message over (ctx done, the sink closed, a value
// that cannot be encoded); a message given up on later is counted in
// Stats.GroupIdentifyFailures.
func (s *Sink) GroupIdentify(ctx context.Context, groupType, key string, props map[string]any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var errs []error
	if strings.TrimSpace(groupType) == "" {
		errs = append(errs, errors.New("empty group type"))
	}
	if strings.TrimSpace(key) == "" {
		errs = append(errs, errors.New("empty group key"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("posthog: GroupIdentify: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	gi := ph.GroupIdentify{
		Type: groupType, Key: key, Uuid: uuid.Must(uuid.NewV7()).String(),
		Timestamp: time.Now(), Properties: ph.Properties(maps.Clone(props)),
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.gen == nil {
		return ErrClosed
	}
	s.stats.groupIdentifies.Add(1)
	if err := s.sendIdentify(s.gen, gi); err != nil {
		s.stats.groupIdentifyFailures.Add(1)
		if errors.Is(err, errEncodePanic) {
			err = panickingProperty(props)
		}
		return fmt.Errorf("posthog: GroupIdentify %s %q: %w", groupType, key, err)
	}
	if s.groups != nil && props != nil {
		// What WithGroupProperties tracks for this group is stale now.
		s.groups.forget(groupType, key)
	}
	return nil
}
