// Package sampling holds multitrack's samplers and the parser of sampling
// specs (MULTITRACK_SAMPLE).
//
// Every sampler implements tracker.Sampler: Sample(e) says whether e is kept
// and the probability it was kept with. The tracker records that rate as
// $sample_rate on kept events with a rate below 1, so counts can be
// re-weighted: Σ 1/rate over kept events estimates the number of events.
// Samplers are small concrete types, safe for concurrent use, and allocate
// nothing on Sample.
//
//   - Always, Never.
//   - Ratio keeps a fraction p, deterministically by a key: the event's
//     UUIDRandom (default), or a distinct id, organization or property, so
//     that the same key gets the same decision in every process.
//   - RateLimit keeps at most N events per interval for each key, thinning
//     each key by its own estimated volume.
//   - Burst keeps the first N events of each period, then asks a fallback.
//   - Dynamic aims at a target of kept events per second for each key,
//     from a moving average of each key's volume.
//   - Rules picks one of these by event name (exact or glob), first match
//     wins, with a default.
//
// Stateful samplers take an injectable clock (WithClock) and bound their
// per-key state (WithMaxKeys): the events of keys beyond the bound share one
// overflow state.
//
// # Spec grammar
//
// A spec is a comma-separated list of rules, first match wins; spaces around
// tokens are ignored, and an empty spec keeps every event:
//
//	spec     = rule { "," rule }
//	rule     = pattern "=" sampler
//	pattern  = an event name, or a glob where '*' is any run: query_*, *_failed, *
//	sampler  = P [ ":by=" key ]                 P in [0,1]: 1 keeps all, 0 none, else a ratio
//	         | "always" | "never"
//	         | "ratio:" P [ ":by=" key ]
//	         | "rate:" N "/" dur [ ":by=" key ] [ ":keys=" N ] [ ":headroom=" F ]
//	         | "burst:" N "/" dur [ ":then=" fallback ] [ ":by=" key ] [ ":keys=" N ]
//	         | "dynamic:" X "/" dur [ ":by=" key ] [ ":keys=" N ] [ ":window=" dur ] [ ":weight=" F ]
//	key      = "uuid" | "distinct_id" | "org" | "event" | "group." TYPE | "prop." NAME | NAME
//	fallback = P | "always" | "never"
//	dur      = a Go duration (10s, 1m, 500ms) or a bare unit (s, m, h)
//
// N is a positive integer, X a positive number (dynamic's target is X per
// dur, e.g. 12000/1m is 200/s). Options may come in any order. by= names
// what a ratio hashes (uuid, the default: per event) or what the stateful
// samplers keep state per (default: one state for all events); "org" is
// Groups["organization"], a bare NAME is the property NAME (prop.NAME
// for a name that clashes). An event without the key's value falls back to
// its UUIDRandom (ratio) or to one shared state (the others). keys= bounds
// the number of keys (DefaultMaxKeys); headroom= is the share of a rate
// limit its estimated rates aim at (DefaultHeadroom); window= is how often
// dynamic re-estimates and weight= the weight of the newest window in its
// moving average (DefaultDynamicWindow, DefaultEMAWeight); F is in (0, 1].
// Events no rule matches are kept.
//
// Examples:
//
//	query_initiated=0.01,query_failed=1,*=1
//	query_*=ratio:0.01:by=trace_id
//	query_*=rate:100/s:by=org
//	job_step=burst:50/1m:then=0.1
//	query_initiated=dynamic:200/s:by=org,*_failed=always
//
// Rates outside [0,1], unknown kinds or options, bad numbers and durations,
// an option given twice, a pattern given twice and a rule an earlier glob
// always pre-empts are errors, never clamped or ignored. ParseSpec reports all
// of them together, each a *SpecError naming the rule (index, byte offset,
// text) and wrapping one of the Err variables for errors.Is.
//
// # Composition
//
// The tracker multiplies the rates of its sampler and a sink's sampler, and
// re-mixes the per-event key for each sink, so per-event decisions compose
// exactly. Two samplers keyed by the same value (an organization, a
// trace_id) do not: two Ratios p and q by=org keep min(p, q) of the
// organizations, not p·q. Key one of them differently, or sample in one place.
package sampling
