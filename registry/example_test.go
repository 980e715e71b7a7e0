package registry_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/multitrack/multitrack/registry"
	"github.com/multitrack/multitrack/tracker"
)

// webhook is a custom sink: it would POST each batch to a URL with a bearer
// token; here it prints what it would send.
type webhook struct {
	w       io.Writer
	url     string
	token   string
	timeout time.Duration
}

func (h *webhook) Write(ctx context.Context, events []tracker.Event) error {
	for _, e := range events {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range e.Properties {
				if !yield(k) {
					return
				}
			}
		})
		fmt.Fprintf(h.w, "POST %s (timeout %v, token %d bytes): %s by %s, properties %v\n",
			h.url, h.timeout, len(h.token), e.Name, e.DistinctID, keys)
	}
	return nil
}

func (h *webhook) Close(context.Context) error { return nil }

// newWebhook reads MULTITRACK_WEBHOOK_URL (required),
// MULTITRACK_WEBHOOK_TOKEN (a secret) and MULTITRACK_WEBHOOK_TIMEOUT.
func newWebhook(cfg registry.Config) (tracker.Sink, error) {
	h := &webhook{
		w:       cfg.Stdout(),
		url:     cfg.Required("URL"),
		token:   cfg.Secret("TOKEN"),
		timeout: cfg.Duration("TIMEOUT", 5*time.Second),
	}
	if !strings.HasPrefix(h.url, "https://") && h.url != "" {
		cfg.Invalid(cfg.Var("URL"), fmt.Errorf("want an https:// URL"))
	}
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return h, nil
}

func init() {
	// In a program: in an init function of the package that defines the sink.
	// Its keys let a misspelt setting be found, even while it is off.
	registry.Register("webhook", newWebhook, "URL", "TOKEN", "TIMEOUT")
}

// mapLookup is a lookup function over a map, standing in for os.LookupEnv.
func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// A custom sink, registered once, enabled by name from the environment
// with its own settings.
func Example_customSink() {
	env := map[string]string{
		"MULTITRACK_SINKS":           "webhook",
		"MULTITRACK_WEBHOOK_URL":     "https://hooks.example.com/events",
		"MULTITRACK_WEBHOOK_TOKEN":   "whk_0123456789abcdef",
		"MULTITRACK_WEBHOOK_TIMEOUT": "2s",
		"MULTITRACK_PROPERTIES":      "service=api,region=eu",
	}
	t, err := registry.FromLookup(mapLookup(env))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := tracker.WithOrganization(context.Background(), "org_42")
	t.Capture(ctx, tracker.Event{Name: "query_failed", Properties: map[string]any{"sqlstate": "42P01"}})
	if err := t.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST https://hooks.example.com/events (timeout 2s, token 20 bytes): query_failed by org_42, properties [region service sqlstate]
}

// Every problem in the environment comes back at once, each naming its
// variable; the secret token is not echoed.
func ExampleFromLookup_errors() {
	_, err := registry.FromLookup(mapLookup(map[string]string{
		"MULTITRACK_SINKS":           "webhook,kafka",
		"MULTITRACK_WEBHOOK_URL":     "http://hooks.example.com",
		"MULTITRACK_WEBHOOK_TOKEN":   "whk_0123456789abcdef",
		"MULTITRACK_WEBHOOK_TIMEOUT": "whk_0123456789abcdef",
		"MULTITRACK_QUEUE_SIZE":      "lots",
	}))
	fmt.Println(strings.ReplaceAll(err.Error(), strings.Join(registry.Sinks(), ", "), "…"))
	// Output:
	// multitrack configuration: 4 problems:
	//   - MULTITRACK_SINKS: unknown sink "kafka": want a comma list of …, or none
	//   - MULTITRACK_QUEUE_SIZE: invalid value "lots": want a whole number from 1 to 1048576
	//   - MULTITRACK_WEBHOOK_TIMEOUT: invalid value "[redacted]": want a positive duration such as 500ms, 5s or 1m
	//   - MULTITRACK_WEBHOOK_URL: invalid value: want an https:// URL
}

// Describe shows what the environment configures, secrets redacted: the
// text of `multitrack config`.
func ExampleDescribe() {
	text, err := registry.Describe(mapLookup(map[string]string{
		"MULTITRACK_SINKS":         "webhook",
		"MULTITRACK_WEBHOOK_URL":   "https://hooks.example.com/events",
		"MULTITRACK_WEBHOOK_TOKEN": "whk_0123456789abcdef",
		"MULTITRACK_SAMPLE":        "query_initiated=0.01",
		"MULTITRACK_OVERFLOW":      "drop_oldest",
	}))
	fmt.Print(text)
	fmt.Println("error:", err)
	// Output:
	// sinks: webhook
	//
	// variable                         value
	// MULTITRACK_SINKS                 webhook
	// POSTHOG_API_KEY                                        (unset)
	// MULTITRACK_SAMPLE                query_initiated=0.01
	// MULTITRACK_QUEUE_SIZE            8192                  (default)
	// MULTITRACK_OVERFLOW              drop_oldest
	// MULTITRACK_DEAD_LETTER_PATH      none                  (default)
	// MULTITRACK_PROPERTIES            none                  (default)
	// MULTITRACK_FALLBACK_DISTINCT_ID  standalone            (default)
	// MULTITRACK_MAX_EVENT_SIZE        32KiB                 (default)
	// MULTITRACK_LOG_LEVEL             off                   (default)
	// MULTITRACK_PLAN_PATH             none                  (default)
	// MULTITRACK_PLAN_MODE             warn                  (default)
	//
	// sink webhook:
	// MULTITRACK_WEBHOOK_URL      https://hooks.example.com/events
	// MULTITRACK_WEBHOOK_TOKEN    [redacted]
	// MULTITRACK_WEBHOOK_TIMEOUT  5s                                (default)
	// error: <nil>
}

// FromLookup (FromEnv reads the process environment the same way): JSON
// lines on stdout, query starts sampled at 1%, failures all kept.
func ExampleFromLookup() {
	t, err := registry.FromLookup(mapLookup(map[string]string{
		"MULTITRACK_SINKS":         "stdout",
		"MULTITRACK_STDOUT_FORMAT": "json",
		"MULTITRACK_SAMPLE":        "query_initiated=0.01,query_failed=1",
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	t.Capture(tracker.WithOrganization(context.Background(), "org_42"), tracker.Event{
		Name:      "query_failed",
		UUID:      "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f",
		Timestamp: time.Date(2026, 11, 28, 10, 15, 3, 0, time.UTC),
	})
	if err := t.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.000000Z","groups":{"organization":"org_42"},"properties":{}}
}

// A variable that is set but has no effect is a warning, with a "did you
// mean": the configuration still builds.
func ExampleEnv_OnWarning() {
	env := map[string]string{
		"MULTITRACK_SINK":         "webhook", // the S is missing: no sink is selected
		"MULTITRACK_WEBHOOK_URL":  "https://hooks.example.com/events",
		"MULTITRACK_QUEUE_SIZ":    "100",
		"MULTITRACK_WEBHOOK_TIME": "2s",
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	t, err := registry.Env{
		Lookup:    mapLookup(env),
		Environ:   func() []string { return environ },
		OnWarning: func(w error) { fmt.Println("warning:", w) },
	}.Tracker()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close(context.Background())
	// Output:
	// warning: MULTITRACK_QUEUE_SIZ: unknown variable, ignored; did you mean MULTITRACK_QUEUE_SIZE?
	// warning: MULTITRACK_SINK: unknown variable, ignored; did you mean MULTITRACK_SINKS?
	// warning: MULTITRACK_WEBHOOK_TIME: unknown variable, ignored; did you mean MULTITRACK_WEBHOOK_TIMEOUT?
	// warning: MULTITRACK_WEBHOOK_URL: setting of a sink that is not selected, ignored: MULTITRACK_SINKS selects no sink, not webhook
}
