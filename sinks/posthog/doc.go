// Package posthog is the multitrack sink that sends events to PostHog, built
// on posthog-go's batching client (github.com/posthog/posthog-go).
//
// Each event becomes a PostHog capture: distinct_id, event, uuid and timestamp
// as the tracker resolved them, its properties, and its Groups as $groups
// (group analytics: {"organization": "org_42"}); an event without groups
// carries none. WithGroupProperties keeps group properties up to date with
// $groupidentify messages drawn from the events.
//
// posthog-go batches, gzips and retries (408, 429, 5xx and network errors,
// with backoff and Retry-After). Write only hands events to it and never
// waits for the network. The sink tracks every event it hands over, by UUID,
// until posthog-go reports it sent or failed; an event refused by posthog-go's
// queue, reported failed, or not reported on when Close's deadline ends is
// passed to the tracker's UndeliveredFunc (tracker.UndeliveredReporter), which
// writes it to the dead-letter file: none is lost silently. Close sends what
// posthog-go buffers and keeps retrying failed batches while its context's
// deadline allows; it honours that deadline even when the endpoint hangs.
// Stats counts what happened.
//
// posthog-go's diagnostics go to the zerolog logger given with WithLogger
// (silent by default), without its debug lines (they print property values)
// and with the API key redacted.
package posthog
