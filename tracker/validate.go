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
)

// checkEvent validates e on the caller's goroutine, in one walk of its
// properties: it returns the approximate size of e's JSON encoding and how
// many secret keys it holds at any depth (a secret key's contents go with
// it, uncounted), or why JSON cannot encode it.
func checkEvent(e *Event, rule *secret.Rule) (size, secrets int, err error) {
	size = 94 + len(e.Name) + len(e.DistinctID) + len(e.UUID)
	for k, v := range e.Groups {
		size += len(k) + len(v) + 6
	}
	w := json.Walker{Rule: rule}
	n, err := w.MeasureObject(e.Properties)
	if err != nil {
		return 0, 0, err
	}
	return size + n, w.Secrets, nil
}
