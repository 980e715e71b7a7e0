package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureStream returns c's stream, creating it when it is missing (with the
// subjects Subject.>, and c's replicas, limits and duplicate window). An
// existing stream is used as it is, provided its subjects take every
// Subject.<event>; otherwise the error names both the stream's subjects and
// the sink's.
func (c Config) EnsureStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	name, subject := c.stream(), c.subject()
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		sc := jetstream.StreamConfig{
			Name:        name,
			Description: "multitrack events (event lines), one subject per event name",
			Subjects:    []string{subject + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    c.replicas(),
			MaxAge:      c.MaxAge,
			Duplicates:  c.duplicateWindow(),
		}
		if c.MaxBytes > 0 {
			// Refuse new events rather than drop old ones: a refused event
			// is reported undelivered and dead-lettered by its producer.
			sc.MaxBytes, sc.Discard = c.MaxBytes, jetstream.DiscardNew
		}
		s, err = js.CreateStream(ctx, sc)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile by another process
			s, err = js.Stream(ctx, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nats: stream %s on %s: %w", name, c.ServerURLs(), err)
	}
	subjects := s.CachedInfo().Config.Subjects
	want := subject + ".*"
	for _, have := range subjects {
		if subjectCovers(have, want) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("nats: stream %s exists with subjects %s, which do not take the sink's subjects %s.>: "+
		"set MULTITRACK_NATS_SUBJECT to a prefix the stream takes, or MULTITRACK_NATS_STREAM to another stream",
		name, strings.Join(subjects, ", "), subject)
}

// subjectCovers reports whether every subject that filter want matches is
// also matched by filter have.
func subjectCovers(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i, ht := range h {
		switch {
		case ht == ">":
			return i < len(w)
		case i >= len(w):
			return false
		case w[i] == ">":
			return false // want matches more tokens than have takes here
		case ht == "*":
		case ht != w[i]:
			return false
		}
	}
	return len(h) == len(w)
}
