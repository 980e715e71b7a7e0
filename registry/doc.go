// Package registry builds a multitrack Tracker from environment variables,
// so that one line of main wires every sink:
//
//	t, err := registry.FromEnv(tracker.WithProperties(map[string]any{"version": version}))
//	if err != nil {
//		log.Fatal(err) // every configuration problem, one per line
//	}
//	defer t.Close(ctx)
//
// Sinks are built by factories registered by name. The built-in sinks,
// posthog, stdout, file, nats and noop, are registered by this package (the sink
// packages never import it); a program adds its own with Register, from an
// init function, and enables them by name in MULTITRACK_SINKS. A factory
// reads its own settings, MULTITRACK_<SINK>_<KEY>, through the Config it is
// given. Every call of FromEnv builds fresh sinks.
//
// Env reads from any lookup function and directs the stdout sink and the
// diagnostics to given writers, for tests and command-line tools; its
// DefaultSinks replaces "none" as the default when neither MULTITRACK_SINKS
// nor POSTHOG_API_KEY is set.
//
// # Variables
//
//	MULTITRACK_SINKS                 comma list of sink names, or none.
//	                                 Default: posthog when POSTHOG_API_KEY is set, else none.
//	POSTHOG_API_KEY                  PostHog project key (secret: never shown).
//	POSTHOG_HOST                     PostHog endpoint. Default: PostHog cloud.
//	MULTITRACK_POSTHOG_BATCH_SIZE    events per PostHog request, 1 to 10000. Default: posthog-go's.
//	MULTITRACK_POSTHOG_INTERVAL      PostHog send interval (Go duration), 1ms to 1h. Default: posthog-go's.
//	MULTITRACK_POSTHOG_PERSON_PROFILES always or never ($process_person_profile: false). Default: always.
//	MULTITRACK_POSTHOG_HISTORICAL    true: batches carry historical_migration (backfills). Default: false.
//	MULTITRACK_POSTHOG_GROUP_PROPERTIES group properties from events, e.g. organization:plan,region;team:tier. Default: none.
//	MULTITRACK_STDOUT_FORMAT         json, pretty or auto. Default: auto (pretty on a terminal, else json).
//	MULTITRACK_FILE_PATH             file sink path; required with the file sink.
//	MULTITRACK_FILE_MAX_SIZE_MB      rotate after this many MiB, 0 (never) to 1048576. Default: 100.
//	MULTITRACK_FILE_MAX_BACKUPS      rotated files kept, 0 (all) to 100000. Default: 10.
//	MULTITRACK_FILE_SYNC             always, interval or never. Default: interval.
//	MULTITRACK_SAMPLE                sampling spec, e.g. query_initiated=0.01,*=1. Default: keep all.
//	MULTITRACK_QUEUE_SIZE            each sink's queue, in events, 1 to 1048576. Default: 8192.
//	MULTITRACK_OVERFLOW              drop_newest, drop_oldest or block. Default: drop_newest.
//	MULTITRACK_DEAD_LETTER_PATH      file for undeliverable events, as event lines. Default: none.
//	MULTITRACK_PROPERTIES            default properties, e.g. service=api,region=eu. Default: none.
//	MULTITRACK_FALLBACK_DISTINCT_ID  distinct id of events with no id and no organization. Default: standalone.
//	MULTITRACK_MAX_EVENT_SIZE        largest accepted event, e.g. 64KiB, 1B to 1MiB. Default: 32KiB.
//	MULTITRACK_LOG_LEVEL             diagnostics on stderr: off, error, warn, info or debug. Default: off.
//	MULTITRACK_PLAN_PATH             tracking-plan file, YAML or JSON (package plan). Default: none.
//	MULTITRACK_PLAN_MODE             warn, strip or drop (tracker.PlanMode). Default: warn.
//	MULTITRACK_NATS_URL              JetStream server URL, or a comma list. Default: nats://127.0.0.1:4222.
//	MULTITRACK_NATS_STREAM           the stream. Default: MULTITRACK.
//	MULTITRACK_NATS_SUBJECT          subject prefix; events go to <prefix>.<event>. Default: multitrack.events.
//	MULTITRACK_NATS_REPLICAS         replicas of a stream created here (1 to 5). Default: 1.
//	MULTITRACK_NATS_MAX_AGE          age limit of a stream created here (Go duration). Default: none.
//	MULTITRACK_NATS_MAX_BYTES        size limit of a stream created here, e.g. 50GiB. Default: none.
//	MULTITRACK_NATS_DUPLICATE_WINDOW window in which a second publish of a UUID is dropped. Default: 2m.
//	MULTITRACK_NATS_CREDS            NATS credentials file. Default: none.
//	MULTITRACK_NATS_TOKEN            NATS token (secret: never shown). Default: none.
//	MULTITRACK_NATS_TLS_CA, MULTITRACK_NATS_TLS_CERT, MULTITRACK_NATS_TLS_KEY  TLS files. Default: none.
//	MULTITRACK_RELAY_CONSUMER        multitrack relay's durable consumer (Env.Relay). Default: multitrack-relay.
//	MULTITRACK_RELAY_MAX_DELIVER     deliveries before the relay dead-letters an event. Default: 10.
//	MULTITRACK_<SINK>_<KEY>          a sink's own settings, read with Config.Get("KEY").
//
// Values are trimmed of surrounding white space; an empty value is the same
// as an unset variable. Every number has a range, and a value outside it is
// an error naming the variable and the range (never wrapped or clamped). Sink names are case-insensitive; "stdout," (a
// trailing comma) is accepted.
//
// MULTITRACK_QUEUE_SIZE and MULTITRACK_OVERFLOW apply to every sink built
// from the environment. MULTITRACK_PROPERTIES holds string values; a
// backslash makes the next character literal, so "note=a\,b" is one
// property "a,b", and a key that looks secret (deploy_token) is an error,
// since the tracker would remove it from every event.
//
// MULTITRACK_PLAN_PATH names a tracking plan (see package plan) that every
// kept event is checked against (tracker.WithPlan): MULTITRACK_PLAN_MODE
// warn delivers events that break it, strip removes the properties it does
// not allow, drop rejects them; all count and log the violations. A plan
// with problems is an error listing each with its line.
//
// # Errors and secrets
//
// Every problem is reported at once: FromLookup returns one error listing
// them, one per line, in which errors.Is finds ErrUnknownSink, ErrMissing
// or ErrInvalid and errors.As each *VarError (naming its variable) and
// *SinkError. The value of a secret, POSTHOG_API_KEY or any variable whose
// name looks secret (…_KEY, …_TOKEN, …_SECRET, …_PASSWORD, …), never
// appears in an error, a log line or Describe's text.
//
// Numbers are range-checked: a value outside its range is a problem naming
// the variable and the range. At most MaxProblems problems are listed, then
// "and N more"; identical ones are listed once, with a count. A
// MULTITRACK_PROPERTIES value that does not parse is never shown (its
// errors name the byte offset), nor is a URL's password.
//
// # Warnings
//
// A MULTITRACK_* or POSTHOG_* variable that is set but has no effect is a
// warning, not a problem: an unknown one (ErrUnknownVariable, with a "did
// you mean" by edit distance: MULTITRACK_SINK for MULTITRACK_SINKS), or a
// setting of a registered sink that MULTITRACK_SINKS does not select
// (ErrSinkNotSelected). Warnings are logged where the tracker logs (the
// logger given with tracker.WithLogger, else MULTITRACK_LOG_LEVEL's), or
// given to Env.OnWarning, and listed by Describe. FromEnv lists
// the process environment to find them; FromLookup cannot list variables
// and checks only the settings registered sinks declare (Register's keys),
// unless Env.Environ is set.
//
// Describe shows the resolved configuration, its warnings and its
// problems, secrets as [redacted], for the `multitrack config` command.
package registry
