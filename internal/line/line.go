// Package line is the layout of an event line, shared by package eventline
// (which users call) and the tracker's dead letter (which cannot import
// eventline: eventline imports the tracker).
package line

import (
	"fmt"
	"time"

	"github.com/multitrack/multitrack/internal/json"
)

// Max is the largest event line, in bytes including its newline, that
// Append writes and a reader accepts.
const Max = 1 << 20

// ErrTooLong is the error of a line longer than Max.
var ErrTooLong = fmt.Errorf("line longer than %d bytes", Max)

// organization is the group type of an organization (tracker.GroupOrganization).
const organization = "organization"

// Fields are an event's fields, in the order a line carries them.
type Fields struct {
	UUID       string
	Name       string
	DistinctID string
	Timestamp  time.Time
	Groups     map[string]string
	Properties map[string]any
}

// Append appends f to dst as one event line: a JSON object with the fields
// uuid, event, distinct_id, timestamp, groups (omitted when empty) and
// properties, in that order, followed by '\n'. Object keys are sorted, so
// the same event always gives the same bytes. On error it returns dst
// unchanged, with a *json.Error (matching json.ErrUnencodable) or an error
// matching ErrTooLong.
func Append(dst []byte, f *Fields) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"uuid":`...)
	dst = json.AppendString(dst, f.UUID)
	dst = append(dst, `,"event":`...)
	dst = json.AppendString(dst, f.Name)
	dst = append(dst, `,"distinct_id":`...)
	dst = json.AppendString(dst, f.DistinctID)
	dst = append(dst, `,"timestamp":`...)
	var err error
	if dst, err = json.AppendTimestamp(dst, f.Timestamp); err != nil {
		return dst[:start], &json.Error{Problem: "timestamp " + err.Error()}
	}
	if len(f.Groups) > 0 {
		dst = append(dst, `,"groups":`...)
		if org, ok := f.Groups[organization]; ok && len(f.Groups) == 1 {
			// The usual groups, the organization alone: one lookup
			// rather than iterating over the map.
			dst = append(dst, `{"`+organization+`":`...)
			dst = json.AppendString(dst, org)
			dst = append(dst, '}')
		} else {
			dst = json.AppendStringMap(dst, f.Groups)
		}
	}
	dst = append(dst, `,"properties":`...)
	if dst, err = json.AppendObject(dst, f.Properties); err != nil {
		return dst[:start], err
	}
	dst = append(dst, '}', '\n')
	if n := len(dst) - start; n > Max {
		return dst[:start], fmt.Errorf("event line of %d bytes: %w", n, ErrTooLong)
	}
	return dst, nil
}
