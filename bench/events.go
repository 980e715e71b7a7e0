package bench

import (
	"context"

	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/tracker"
)

// Props are the five properties of the event every comparison sends: a
// query_initiated of organization org_42.
var Props = map[string]any{
	"user":        "alice",
	"trace_id":    "4bf92f3577b34da6a3ce929d0e0e4736",
	"duration_ms": 12.5,
	"rows":        42,
	"cached":      false,
}

// Org is the organization the events belong to.
const Org = "org_42"

// Event is the event Capture is given: a name and Props; the organization
// comes from the context (OrgContext), the UUID and timestamp are Capture's.
func Event() tracker.Event { return tracker.Event{Name: "query_initiated", Properties: Props} }

// OrgContext is a request's context carrying Org, as authentication
// middleware would set it.
func OrgContext() context.Context {
	return tracker.WithOrganization(context.Background(), Org)
}

// ZerologLine writes, with l, one line holding the same five fields as
// Props, as a service would log the event.
func ZerologLine(l *zerolog.Logger) {
	l.Info().Str("user", "alice").Str("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736").
		Float64("duration_ms", 12.5).Int("rows", 42).Bool("cached", false).Msg("query_initiated")
}

// BareCapture is the event every comparison sends as posthog-go's Enqueue
// takes it, with a map of its own (Enqueue merges into it).
func BareCapture() ph.Capture {
	props := make(ph.Properties, len(Props))
	for k, v := range Props {
		props[k] = v
	}
	return ph.Capture{DistinctId: Org, Event: "query_initiated",
		Groups: ph.Groups{tracker.GroupOrganization: Org}, Properties: props}
}

// QuietLogger is a posthog-go logger that says nothing: a bare client's
// diagnostics out of the way of benchmark output.
type QuietLogger struct{}

// Debugf implements posthog.Logger.
func (QuietLogger) Debugf(string, ...any) {}

// Logf implements posthog.Logger.
func (QuietLogger) Logf(string, ...any) {}

// Warnf implements posthog.Logger.
func (QuietLogger) Warnf(string, ...any) {}

// Errorf implements posthog.Logger.
func (QuietLogger) Errorf(string, ...any) {}

var _ ph.Logger = QuietLogger{}
