package posthogtest

import (
	"sync/atomic"

	ph "github.com/posthog/posthog-go"
)

// Counter is a posthog-go Callback that counts its reports.
type Counter struct{ Sent, Failed atomic.Int64 }

// Success implements posthog.Callback.
func (c *Counter) Success(ph.APIMessage) { c.Sent.Add(1) }

// Failure implements posthog.Callback.
func (c *Counter) Failure(ph.APIMessage, error) { c.Failed.Add(1) }

var _ ph.Callback = (*Counter)(nil)
