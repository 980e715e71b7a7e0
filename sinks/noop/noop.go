package noop

import (
	"context"

	"github.com/multitrack/multitrack/tracker"
)

// Sink discards every event. Its zero value is ready to use and it is safe
// for concurrent use.
type Sink struct{}

// New returns a Sink. It takes no options.
func New() *Sink { return &Sink{} }

// Write discards events and returns nil.
func (*Sink) Write(context.Context, []tracker.Event) error { return nil }

// Close returns nil.
func (*Sink) Close(context.Context) error { return nil }

var _ tracker.Sink = (*Sink)(nil)
