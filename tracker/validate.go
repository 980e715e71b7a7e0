package tracker

import (
	"github.com/multitrack/multitrack/internal/json"
	"github.com/multitrack/multitrack/internal/secret"
)

// Reasons an event is rejected, as counted in Stats and named in logs.
const (
	reasonEmptyName   = "empty_name"
	reasonUnencodable = "unencodable"
	reasonTooLarge    = "too_large"
	reasonTimestamp   = "bad_timestamp"
)

// checkEvent validates e on the caller's goroutine, in one walk of its
// properties: it returns the approximate size of e's JSON encoding and how
// many secret keys it holds at any depth (a secret key's contents go with
// it, uncounted), or why JSON cannot encode it. groupsSize, when not 0, is
// the size of e's groups, already known.
func checkEvent(e *Event, rule *secret.Rule, groupsSize int) (size, secrets int, err error) {
	size = 94 + len(e.Name) + len(e.DistinctID) + len(e.UUID) + groupsSize
	if groupsSize == 0 {
		for k, v := range e.Groups {
			size += groupSize(k, v)
		}
	}
	w := json.Walker{Rule: rule}
	n, err := w.MeasureObject(e.Properties)
	if err != nil {
		return 0, 0, err
	}
	return size + n, w.Secrets, nil
}

// groupSize is what a group takes in an event line, about.
func groupSize(groupType, key string) int { return len(groupType) + len(key) + 6 }
