// Package ingest is a PostHog-compatible capture endpoint: services in any
// language send events with PostHog's own SDKs (posthog-js, posthog-node,
// posthog-python, …), changing nothing but the SDK's host, and the events
// go through a tracker.Tracker as if captured in Go: sampling, secret
// redaction, every configured sink.
//
// A Server answers PostHog's capture routes (/batch/, /capture/, /e/,
// /i/v0/e/, /track/) in every encoding the SDKs use: JSON, Content-Encoding:
// gzip, a gzip body with or without ?compression=gzip-js, form-encoded
// data= with base64 JSON, and lz64 (lz-string, old posthog-js). It answers
// as PostHog does (200 {"status": 1}), with CORS for browsers, and with a
// JSON error naming what was wrong otherwise: 400 (malformed; the valid
// events of a batch are kept), 401 (project key not allowed), 413 (body or
// batch too large; posthog-node halves its batch), 429 with Retry-After
// (rate limit), 503 (not delivered, under AckDelivered; SDKs retry).
//
// Each event becomes a tracker.Event: its uuid kept (one that is not a UUID
// becomes a stable UUIDv5 of it, one that is missing a new UUIDv7), its
// timestamp corrected for the client's clock with sent_at, $groups as
// Groups, top-level $set and $set_once merged into the properties, numbers
// kept as json.Number so that every property round-trips unchanged.
//
// By default a request is answered once its events are captured
// (AckQueued). With WithDeliveredAck, it is answered once every sink has
// delivered them (AckDelivered): wire the tracker's undelivered hook to an
// Acks, as the example shows.
package ingest
