package posthog

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	ph "github.com/posthog/posthog-go"
	"github.com/rs/zerolog"
)

// Defaults used when the corresponding option is not given.
const (
	// DefaultEndpoint is PostHog cloud (US), posthog-go's default. POSTHOG_HOST
	// overrides it through the registry, WithEndpoint in code.
	DefaultEndpoint = ph.DefaultEndpoint
	// DefaultBatchSize is the number of events posthog-go sends in one request.
	DefaultBatchSize = ph.DefaultBatchSize
	// DefaultInterval is how long posthog-go waits before sending a batch that
	// is not full.
	DefaultInterval = ph.DefaultInterval
	// DefaultMaxRetries is the number of retries after a failed first attempt
	// (408, 429, 5xx and no answer are retried; other 4xx are not), but in
	// Close, which retries until its deadline.
	DefaultMaxRetries = ph.DefaultMaxAttempts - 1
	// DefaultRetryBackoff is the delay before the first retry; it doubles on
	// each further retry, up to DefaultRetryBackoffMax. A Retry-After header
	// asking for longer wins, and holds every request back until then.
	DefaultRetryBackoff = 100 * time.Millisecond
	// DefaultRetryBackoffMax caps the retry delay.
	DefaultRetryBackoffMax = 30 * time.Second
	// DefaultGroupCacheSize is how many groups WithGroupProperties remembers
	// the last sent properties of (to send a $groupidentify only on change).
	DefaultGroupCacheSize = 10000
	// maxRetriesLimit is posthog-go's upper bound on Config.MaxRetries.
	maxRetriesLimit = 9
)

// Option configures a Sink in New.
type Option func(*config)

type config struct {
	endpoint       string
	batchSize      int
	interval       time.Duration
	gzip           bool
	maxRetries     int
	backoff        time.Duration
	backoffMax     time.Duration
	transport      http.RoundTripper
	transportSet   bool
	log            zerolog.Logger
	groupProps     map[string][]string // group type -> event property keys
	personProfiles PersonProfiles
	historical     bool
}

func defaultConfig() config {
	return config{
		endpoint:   DefaultEndpoint,
		batchSize:  DefaultBatchSize,
		interval:   DefaultInterval,
		gzip:       true,
		maxRetries: DefaultMaxRetries,
		backoff:    DefaultRetryBackoff,
		backoffMax: DefaultRetryBackoffMax,
		log:        zerolog.Nop(),
	}
}

// WithEndpoint sets the PostHog host events are sent to, e.g.
// "https://eu.i.posthog.com" or a self-hosted instance (the registry reads it
// from POSTHOG_HOST). Batches go to its /batch/ path. Default DefaultEndpoint.
func WithEndpoint(endpoint string) Option {
	return func(c *config) { c.endpoint = endpoint }
}

// WithBatchSize sets how many events posthog-go sends in one request (at
// least 1). Default DefaultBatchSize.
func WithBatchSize(n int) Option {
	return func(c *config) { c.batchSize = n }
}

// WithInterval sets how long posthog-go waits before sending a batch that is
// not full (greater than 0). Default DefaultInterval.
func WithInterval(d time.Duration) Option {
	return func(c *config) { c.interval = d }
}

// WithGzip turns gzip compression of request bodies on or off. Default on.
func WithGzip(on bool) Option {
	return func(c *config) { c.gzip = on }
}

// WithMaxRetries sets how many times the sink retries an event after a
// failed first attempt, in [0, 9]; Close retries until its deadline however
// many attempts were made, and 0 turns retries off altogether. Default
// DefaultMaxRetries.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = n }
}

// WithRetryBackoff sets the delay before the first retry (doubling on each
// further retry) and its cap; both greater than 0, first ≤ max. Default
// DefaultRetryBackoff, DefaultRetryBackoffMax.
func WithRetryBackoff(first, max time.Duration) Option {
	return func(c *config) { c.backoff, c.backoffMax = first, max }
}

// WithTransport sets the HTTP transport requests go through (tests, proxies).
// The caller owns it: Close does not close its idle connections. By default
// the sink uses its own clone of http.DefaultTransport and releases it in
// Close.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) { c.transport, c.transportSet = rt, true }
}

// PersonProfiles says whether PostHog creates and updates person profiles
// for the sink's events (PostHog bills events that do higher).
type PersonProfiles int

const (
	// PersonProfilesAlways leaves PostHog's default: every distinct id,
	// an organization's or "standalone" included, gets a person profile.
	PersonProfilesAlways PersonProfiles = iota
	// PersonProfilesNever sends every capture with
	// $process_person_profile: false: no person profiles.
	PersonProfilesNever
)

// String returns "always" or "never", as MULTITRACK_POSTHOG_PERSON_PROFILES
// spells them.
func (p PersonProfiles) String() string {
	if p == PersonProfilesNever {
		return "never"
	}
	return "always"
}

// ParsePersonProfiles reads "always" or "never" (any case), as
// MULTITRACK_POSTHOG_PERSON_PROFILES gives them.
func ParsePersonProfiles(s string) (PersonProfiles, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "always":
		return PersonProfilesAlways, nil
	case "never":
		return PersonProfilesNever, nil
	}
	return PersonProfilesAlways, errors.New("want always or never")
}

// WithPersonProfiles sets whether the sink's events create person profiles.
// With PersonProfilesNever every capture carries
// $process_person_profile: false (the sink's setting wins over an event's),
// so that events keyed by an organization or "standalone" are not billed
// as identified. Default PersonProfilesAlways.
func WithPersonProfiles(p PersonProfiles) Option {
	return func(c *config) { c.personProfiles = p }
}

// WithHistorical marks every batch with PostHog's historical_migration flag,
// for backfills (multitrack replay --historical). Default off.
func WithHistorical(on bool) Option {
	return func(c *config) { c.historical = on }
}

// ParseGroupProperties reads group-property rules as
// MULTITRACK_POSTHOG_GROUP_PROPERTIES gives them: TYPE:KEY,KEY entries
// separated by ";", e.g. "organization:plan,region;team:tier". Each is a
// WithGroupProperties(TYPE, KEY...). Every mistake is reported at once.
func ParseGroupProperties(spec string) (map[string][]string, error) {
	out := make(map[string][]string)
	var errs []error
	for i, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		typ, list, ok := strings.Cut(entry, ":")
		typ = strings.TrimSpace(typ)
		if !ok || typ == "" {
			errs = append(errs, fmt.Errorf("entry %d: want TYPE:KEY,KEY, such as organization:plan,region", i+1))
			continue
		}
		var keys []string
		for k := range strings.SplitSeq(list, ",") {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			errs = append(errs, fmt.Errorf("entry %d (%s): no property keys", i+1, typ))
			continue
		}
		out[typ] = append(out[typ], keys...)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no TYPE:KEY,KEY entry"))
	}
	return out, errors.Join(errs...)
}

// WithLogger routes posthog-go's diagnostics (failed requests, dropped
// batches) to l, with the field component=posthog. posthog-go's debug
// messages are dropped because they print whole events, property values
// included; the API key is redacted from every message. Default: silent.
func WithLogger(l zerolog.Logger) Option {
	return func(c *config) { c.log = l }
}

// WithGroupProperties makes the sink keep PostHog's group properties up to
// date from the events themselves. For an event whose Groups has groupType
// (e.g. "organization") and whose Properties carry one or more of keys (e.g.
// "plan", "region"), the sink sends a $groupidentify for that group with those
// properties ($group_set) before the event. It sends one only when the values
// differ from the last ones sent for that group by this sink (it remembers
// up to DefaultGroupCacheSize groups), so a high-volume event that repeats
// them costs nothing more. The properties stay on the event as well.
//
// It may be given several times, for several group types; keys given again
// for the same type are added.
func WithGroupProperties(groupType string, keys ...string) Option {
	return func(c *config) {
		if c.groupProps == nil {
			c.groupProps = make(map[string][]string)
		}
		c.groupProps[groupType] = append(c.groupProps[groupType], keys...)
	}
}

// validate reports every invalid setting at once, each naming its option.
func (c *config) validate() error {
	var errs []error
	if c.endpoint != "" {
		u, err := url.Parse(c.endpoint)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("posthog: WithEndpoint: invalid URL"))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("posthog: WithEndpoint %q: scheme must be http or https", u.Redacted()))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("posthog: WithEndpoint %q: no host", u.Redacted()))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, fmt.Errorf("posthog: WithEndpoint %q: must not have a query or fragment", u.Redacted()))
		}
	} else {
		errs = append(errs, errors.New("posthog: WithEndpoint: empty endpoint"))
	}
	if c.batchSize < 1 {
		errs = append(errs, fmt.Errorf("posthog: WithBatchSize(%d): must be at least 1", c.batchSize))
	}
	if c.interval <= 0 {
		errs = append(errs, fmt.Errorf("posthog: WithInterval(%s): must be greater than 0", c.interval))
	}
	if c.maxRetries < 0 || c.maxRetries > maxRetriesLimit {
		errs = append(errs, fmt.Errorf("posthog: WithMaxRetries(%d): must be in [0, %d]", c.maxRetries, maxRetriesLimit))
	}
	if c.backoff <= 0 || c.backoffMax <= 0 || c.backoff > c.backoffMax {
		errs = append(errs, fmt.Errorf("posthog: WithRetryBackoff(%s, %s): both must be greater than 0, first ≤ max", c.backoff, c.backoffMax))
	}
	if c.personProfiles != PersonProfilesAlways && c.personProfiles != PersonProfilesNever {
		errs = append(errs, fmt.Errorf("posthog: WithPersonProfiles(%d): want PersonProfilesAlways or PersonProfilesNever", int(c.personProfiles)))
	}
	if c.transportSet && c.transport == nil {
		errs = append(errs, errors.New("posthog: WithTransport: nil transport"))
	}
	for _, typ := range slices.Sorted(maps.Keys(c.groupProps)) {
		keys := c.groupProps[typ]
		if typ == "" {
			errs = append(errs, errors.New("posthog: WithGroupProperties: empty group type"))
		}
		if len(keys) == 0 {
			errs = append(errs, fmt.Errorf("posthog: WithGroupProperties(%q): no property keys", typ))
		}
		for _, k := range keys {
			if k == "" {
				errs = append(errs, fmt.Errorf("posthog: WithGroupProperties(%q): empty property key", typ))
			}
		}
	}
	return errors.Join(errs...)
}

// trimmedEndpoint is the endpoint without a trailing slash (posthog-go appends
// "/batch/" to it).
func (c *config) trimmedEndpoint() string {
	return strings.TrimRight(c.endpoint, "/")
}
