package registry

import (
	"errors"
	"net/url"
	"time"

	"github.com/multitrack/multitrack/sinks/file"
	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/sinks/stdout"
	"github.com/multitrack/multitrack/tracker"
)

// The built-in sinks register themselves here, not in their own packages:
// sinks never import the registry.
func init() {
	Register("file", newFile, "PATH", "MAX_SIZE_MB", "MAX_BACKUPS", "SYNC")
	Register("noop", newNoop)
	Register("posthog", newPostHog, "BATCH_SIZE", "INTERVAL", "PERSON_PROFILES", "HISTORICAL", "GROUP_PROPERTIES")
	Register("stdout", newStdout, "FORMAT")
}

// newNoop builds a sink that discards every event. It has no settings.
func newNoop(Config) (tracker.Sink, error) { return noop.New(), nil }

// newStdout builds a stdout sink writing to cfg.Stdout().
// MULTITRACK_STDOUT_FORMAT: json, pretty or auto (default: pretty on a
// terminal, else json).
func newStdout(cfg Config) (tracker.Sink, error) {
	format := Parse(cfg, "FORMAT", stdout.FormatAuto, stdout.ParseFormat)
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return sinkOrNil(stdout.New(stdout.WithWriter(cfg.Stdout()), stdout.WithFormat(format)))
}

// sinkOrNil returns a nil tracker.Sink, not one holding a nil pointer, when
// a constructor fails.
func sinkOrNil[S tracker.Sink](s S, err error) (tracker.Sink, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// maxPostHogBatch bounds MULTITRACK_POSTHOG_BATCH_SIZE: PostHog refuses
// requests over 500 KB, which far fewer events already fill.
const maxPostHogBatch = 10_000

// newPostHog builds a PostHog sink. POSTHOG_API_KEY (required, secret),
// POSTHOG_HOST (default PostHog cloud), MULTITRACK_POSTHOG_BATCH_SIZE and
// MULTITRACK_POSTHOG_INTERVAL (default posthog-go's; 1ms to 1h). Its diagnostics go to
// the MULTITRACK_LOG_LEVEL logger.
func newPostHog(cfg Config) (tracker.Sink, error) {
	key, ok := cfg.Lookup(varAPIKey)
	if !ok {
		cfg.Missing(varAPIKey)
	}
	opts := []posthog.Option{posthog.WithLogger(cfg.Logger())}
	if host, ok := cfg.Lookup(varHost); ok {
		if u, err := url.Parse(host); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			cfg.Invalid(varHost, errors.New("want an http or https URL such as https://eu.i.posthog.com"))
		}
		opts = append(opts, posthog.WithEndpoint(host))
	}
	opts = append(opts,
		posthog.WithBatchSize(cfg.IntRange("BATCH_SIZE", posthog.DefaultBatchSize, 1, maxPostHogBatch)),
		posthog.WithInterval(cfg.DurationRange("INTERVAL", posthog.DefaultInterval, time.Millisecond, time.Hour)),
	)
	opts = append(opts, postHogOptions(cfg)...)
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return sinkOrNil(posthog.New(key, opts...))
}

// postHogOptions reads the PostHog sink's other settings:
// MULTITRACK_POSTHOG_PERSON_PROFILES (always or never; default always),
// MULTITRACK_POSTHOG_HISTORICAL (default false) and
// MULTITRACK_POSTHOG_GROUP_PROPERTIES (e.g. organization:plan,region; default
// none).
func postHogOptions(cfg Config) []posthog.Option {
	opts := []posthog.Option{
		posthog.WithPersonProfiles(Parse(cfg, "PERSON_PROFILES", posthog.PersonProfilesAlways, posthog.ParsePersonProfiles)),
		posthog.WithHistorical(cfg.Bool("HISTORICAL", false)),
	}
	if spec := cfg.Get("GROUP_PROPERTIES"); spec != "" {
		groups, err := posthog.ParseGroupProperties(spec)
		if err != nil {
			cfg.Invalid(cfg.Var("GROUP_PROPERTIES"), err)
		}
		for typ, keys := range groups { // one option a group type: the order does not matter
			opts = append(opts, posthog.WithGroupProperties(typ, keys...))
		}
	}
	return opts
}

// newFile builds a file sink. MULTITRACK_FILE_PATH (required),
// MULTITRACK_FILE_MAX_SIZE_MB (default 100; 0 turns rotation off; at most
// file.MaxSizeMBLimit), MULTITRACK_FILE_MAX_BACKUPS (default 10; 0 keeps
// every backup; at most file.MaxBackupsLimit),
// MULTITRACK_FILE_SYNC (always, interval or never; default interval).
func newFile(cfg Config) (tracker.Sink, error) {
	path := cfg.Required("PATH")
	opts := []file.Option{
		file.WithMaxSizeMB(cfg.IntRange("MAX_SIZE_MB", file.DefaultMaxSizeMB, 0, file.MaxSizeMBLimit)),
		file.WithMaxBackups(cfg.IntRange("MAX_BACKUPS", file.DefaultMaxBackups, 0, file.MaxBackupsLimit)),
		file.WithSync(Parse(cfg, "SYNC", file.DefaultSync, file.ParseSync)),
	}
	if err := cfg.Err(); err != nil {
		return nil, err
	}
	return sinkOrNil(file.New(path, opts...))
}
