// Package json writes the JSON of event lines by hand, without allocating,
// and walks property values: one Walker answers whether JSON can encode a
// value, about how large it is and which keys in it are secret, or writes
// it. The primitives are split by value kind: strings (string.go), numbers,
// containers and other types (types.go), times (time.go).
package json

import (
	"errors"
	"fmt"
)

// ErrUnencodable is matched, with errors.Is, by every *Error.
var ErrUnencodable = errors.New("not JSON-encodable")

// MaxDepth is how deeply a property's value may nest (maps, slices,
// pointers, struct fields); deeper is taken for a cycle.
const MaxDepth = 32

// Error says which value JSON cannot encode and why. It never holds the
// value, which may be secret.
type Error struct {
	// Key is the path of the value inside the properties, such as "latency"
	// or "tags[2].name"; empty for an event field as a whole.
	Key string
	// Problem says what is wrong, e.g. "NaN", "func value".
	Problem string
}

// Error names the property and the problem.
func (e *Error) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("property %q: %s: %v", e.Key, e.Problem, ErrUnencodable)
	}
	return fmt.Sprintf("%s: %v", e.Problem, ErrUnencodable)
}

// Unwrap returns ErrUnencodable.
func (e *Error) Unwrap() error { return ErrUnencodable }

func problem(p string) error { return &Error{Problem: p} }

// withKey prefixes the path of an *Error with step on the way out of the
// recursion, so that the happy path never formats a path.
func withKey(err error, step string) error {
	if e, ok := err.(*Error); ok {
		if e.Key == "" || e.Key[0] == '[' {
			e.Key = step + e.Key
		} else {
			e.Key = step + "." + e.Key
		}
	}
	return err
}

// AppendObject writes the properties m as a JSON object with sorted keys,
// "{}" when m is empty. On error it returns dst as it was and an *Error.
func AppendObject(dst []byte, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return append(dst, '{', '}'), nil
	}
	w := Walker{encode: true}
	out, _, err := w.appendEntries(dst, m, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendValue writes v, a property's value, as JSON. On error it returns dst
// as it was and an *Error.
func AppendValue(dst []byte, v any) ([]byte, error) {
	w := Walker{encode: true}
	out, _, err := w.walk(dst, v, 0, false)
	if err != nil {
		return dst, err
	}
	return out, nil
}
