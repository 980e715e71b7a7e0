package registry

import (
	"errors"
	"fmt"
	"strings"
)

// parseProperties parses MULTITRACK_PROPERTIES: comma-separated key=value
// items whose values are strings. A backslash makes the next character
// literal, so that a value may hold a comma or an equals sign
// ("note=a\,b"); white space around keys and values is trimmed. Errors name
// the byte offset in s (plus base) and the item, never a value: the
// value may be a secret. Keys that look secret are refused by
// loadProperties.
func parseProperties(s string, base int) (map[string]any, []error) {
	props := make(map[string]any)
	var errs []error
	items, offsets, err := splitEscaped(s, ',')
	if err != nil {
		var be *byteError
		if errors.As(err, &be) {
			be.offset += base
		}
		return nil, []error{err}
	}
	for i, item := range items {
		if strings.TrimSpace(item) == "" {
			continue // a trailing comma
		}
		at := func(format string, args ...any) error {
			return &byteError{offset: base + offsets[i], item: i + 1, msg: fmt.Sprintf(format, args...)}
		}
		kv, _, _ := splitEscaped(item, '=')
		if len(kv) < 2 {
			errs = append(errs, at("want key=value"))
			continue
		}
		key := unescape(strings.TrimSpace(kv[0]))
		// Everything after the first '=' is the value, '=' included.
		rawValue := strings.TrimSpace(item[len(kv[0])+1:])
		switch {
		case key == "":
			errs = append(errs, at("empty key; want key=value"))
		case props[key] != nil:
			errs = append(errs, at("key %s given twice", quote(key)))
		default:
			props[key] = unescape(rawValue)
		}
	}
	return props, errs
}

// byteError is a problem at a byte offset of a variable's value, in one
// of its items (counted from 1) when item > 0.
type byteError struct {
	offset, item int
	msg          string
}

func (e *byteError) Error() string {
	if e.item > 0 {
		return fmt.Sprintf("byte %d (item %d): %s", e.offset, e.item, e.msg)
	}
	return fmt.Sprintf("byte %d: %s", e.offset, e.msg)
}

// splitEscaped splits s at every sep not preceded by a backslash, keeping
// the escapes in the parts, and returns where each part starts. A
// trailing lone backslash is an error.
func splitEscaped(s string, sep byte) (parts []string, offsets []int, err error) {
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return nil, nil, &byteError{offset: i, msg: "ends with a lone backslash; write \\\\ for a backslash"}
			}
			i++
		case sep:
			parts, offsets = append(parts, s[start:i]), append(offsets, start)
			start = i + 1
		}
	}
	return append(parts, s[start:]), append(offsets, start), nil
}

// unescape removes the backslash before each escaped character.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
