package uuidv7

import (
	"strings"

	"github.com/google/uuid"
)

// LegacySpace is the name space of the UUIDv5 given to an event whose UUID is
// not a UUID (e.g. "order-1"): PostHog requires one, and the same name always
// gives the same UUID, so that deduplication downstream still works.
var LegacySpace = uuid.MustParse("6f1c3a52-0f6e-4b8e-9d55-3f0a7c2e9b41")

// Canonical is the UUID an event is sent with, whoever sends it (the
// PostHog sink, multitrack serve): s itself in canonical (lower-case)
// form; a UUIDv5 of s in LegacySpace when s is not a UUID; a new UUIDv7
// when s is empty.
func Canonical(s string) string {
	if s == "" {
		return uuid.Must(uuid.NewV7()).String()
	}
	if len(s) == 36 && uuid.Validate(s) == nil && strings.ToLower(s) == s {
		return s
	}
	if u, err := uuid.Parse(s); err == nil {
		return u.String()
	}
	return uuid.NewSHA1(LegacySpace, []byte(s)).String()
}
