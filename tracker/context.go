package tracker

import (
	"context"
	"sync/atomic"

	"github.com/multitrack/multitrack/internal/keycache"
)

type orgKey struct{}

// WithOrganization returns a context carrying the organization that events
// captured with it belong to: it fills Groups["organization"] of events that
// have none, and their DistinctID when empty.
func WithOrganization(ctx context.Context, org string) context.Context {
	return context.WithValue(ctx, orgKey{}, orgOf(org))
}

// orgValue is an organization as a context carries it, with the groups of
// an event that has none: {"organization": org}, made once per organization
// and shared, read-only, by every event of it, so that Capture looks
// nothing up.
type orgValue struct {
	org        string
	groups     map[string]string
	groupsSize int // groups' size as checkEvent counts it
}

// orgValues holds the orgValue of each organization seen (up to
// keycache.Max; later ones are made per context).
var orgValues keycache.Map[*orgValue]

func orgOf(org string) *orgValue {
	if o, ok := orgValues.Get(org); ok {
		return o
	}
	o := &orgValue{org: org, groups: map[string]string{GroupOrganization: org}, groupsSize: groupSize(GroupOrganization, org)}
	orgValues.Put(org, o)
	return o
}

// with returns groups with the organization set: the shared map when groups
// is empty, else a copy (the caller's map is not modified).
func (o *orgValue) with(groups map[string]string) map[string]string {
	if len(groups) == 0 {
		return o.groups
	}
	g := make(map[string]string, len(groups)+1)
	for k, v := range groups {
		g[k] = v
	}
	g[GroupOrganization] = o.org
	return g
}

var defaultTracker atomic.Pointer[Tracker]

// SetDefault makes t the process-wide tracker that the package-level Capture
// uses. SetDefault(nil) restores the no-op default. The caller still owns t
// and closes it.
func SetDefault(t *Tracker) { defaultTracker.Store(t) }

// Default returns the process-wide tracker: a nil *Tracker, which is a valid
// no-op, until SetDefault is called.
func Default() *Tracker { return defaultTracker.Load() }

// Capture captures e with the process-wide tracker (Default().Capture).
func Capture(ctx context.Context, e Event) { defaultTracker.Load().Capture(ctx, e) }
