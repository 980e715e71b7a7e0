package tracker

import (
	"context"
	"sync/atomic"
)

type orgKey struct{}

// WithOrganization returns a context carrying the organization that events
// captured with it belong to: it fills Groups["organization"] of events that
// have none, and their DistinctID when empty.
func WithOrganization(ctx context.Context, org string) context.Context {
	return context.WithValue(ctx, orgKey{}, org)
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
