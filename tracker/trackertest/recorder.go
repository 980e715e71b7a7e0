// Package trackertest provides a Recorder, an in-memory tracker.Sink for
// users' unit tests, as net/http/httptest does for HTTP.
package trackertest

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/multitrack/multitrack/tracker"
)

// Recorder is a tracker.Sink that keeps every event written to it. It is
// safe for concurrent use; the zero value is ready.
type Recorder struct {
	mu      sync.Mutex
	events  []tracker.Event
	changed chan struct{} // closed and replaced on every Write and Reset
	closed  bool
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Write keeps copies of the events (their maps are copied too, as the Sink
// contract requires).
func (r *Recorder) Write(_ context.Context, events []tracker.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		e.Groups = maps.Clone(e.Groups)
		e.Properties = maps.Clone(e.Properties)
		r.events = append(r.events, e)
	}
	r.notifyLocked()
	return nil
}

// Close marks the recorder closed; its events stay readable.
func (r *Recorder) Close(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.notifyLocked()
	return nil
}

// Closed reports whether Close was called.
func (r *Recorder) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Events returns a copy of the events written so far, in order.
func (r *Recorder) Events() []tracker.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tracker.Event(nil), r.events...)
}

// Named returns the events written so far with the given name, in order.
func (r *Recorder) Named(name string) []tracker.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []tracker.Event
	for _, e := range r.events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Len returns the number of events written so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Reset forgets every event.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
	r.notifyLocked()
}

// WaitFor waits until at least n events have been written, and returns
// them; it returns ctx's error, saying how many arrived, when ctx ends first.
func (r *Recorder) WaitFor(ctx context.Context, n int) ([]tracker.Event, error) {
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]tracker.Event(nil), r.events...)
			r.mu.Unlock()
			return out, nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch, got := r.changed, len(r.events)
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("trackertest: waited for %d events, got %d: %w", n, got, ctx.Err())
		}
	}
}

// NewTracker returns a Tracker whose only sink is a new Recorder named
// "recorder", with a short flush interval so events arrive quickly. Further
// options (a sampler, default properties, …) apply on top. The tracker is
// closed when the test ends.
func NewTracker(tb testing.TB, opts ...tracker.Option) (*tracker.Tracker, *Recorder) {
	tb.Helper()
	rec := NewRecorder()
	all := append([]tracker.Option{tracker.WithSink("recorder", rec, tracker.WithFlushInterval(5*time.Millisecond))}, opts...)
	t, err := tracker.New(all...)
	if err != nil {
		tb.Fatalf("trackertest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := t.Close(ctx); err != nil {
			tb.Errorf("trackertest: close: %v", err)
		}
	})
	return t, rec
}

var _ tracker.Sink = (*Recorder)(nil)
