// Package posthog is the multitrack sink that sends events to PostHog, with
// posthog-go (github.com/posthog/posthog-go) as the engine: its message
// types, batching and wire format.
//
// Each event becomes a PostHog capture: distinct_id, event, uuid and timestamp
// as the tracker resolved them, its properties, and its Groups as $groups
// (group analytics: {"organization": "org_42"}); an event without groups
// carries none. WithGroupProperties keeps group properties up to date with
// $groupidentify messages drawn from the events; GroupIdentify sends one
// directly. WithPersonProfiles(PersonProfilesNever) turns person profiles
// off; WithHistorical marks backfills.
//
// Delivery control is the sink's own. Write hands events to posthog-go,
// which encodes and batches them; it never waits for the network. Flush
// closes the current posthog-go client, which sends everything it buffers
// at once, while a fresh one takes new events: everything written before
// Flush is sent within about one round trip, whatever the number. Every
// HTTP answer is observed by the sink's transport (status, Retry-After),
// never read from error text: a 5xx, 408, 429 or a request with no answer is
// retried with backoff (WithRetryBackoff, WithMaxRetries), a Retry-After
// holds every request back until then, and any other answer is final. Close
// sends what is left and retries until shortly before its deadline, however
// many attempts that takes; it returns by the deadline even when PostHog
// hangs.
//
// Every event is tracked, by UUID, until PostHog accepts it or the sink gives
// up on it; what it gives up on is passed to the tracker's UndeliveredFunc
// (tracker.UndeliveredReporter), which writes it to the dead-letter file:
// none is lost silently. PostHog deduplicates by UUID on a best-effort basis,
// so an event whose answer was lost may arrive twice after a replay. Stats
// counts what happened.
//
// posthog-go's diagnostics go to the zerolog logger given with WithLogger
// (silent by default), without its debug lines (they print property values)
// and with the API key redacted.
package posthog
