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
// the item and its key, never its value. Keys that look secret are refused
// by tracker.New, which loadProperties asks.
func parseProperties(s string) (map[string]any, []error) {
	props := make(map[string]any)
	var errs []error
	items, err := splitEscaped(s, ',')
	if err != nil {
		return nil, []error{err}
	}
	for i, item := range items {
		if strings.TrimSpace(item) == "" {
			continue // a trailing comma
		}
		kv, _ := splitEscaped(item, '=')
		if len(kv) < 2 {
			errs = append(errs, fmt.Errorf("item %d: want key=value", i+1))
			continue
		}
		key := unescape(strings.TrimSpace(kv[0]))
		// Everything after the first '=' is the value, '=' included.
		rawValue := strings.TrimSpace(item[len(kv[0])+1:])
		switch {
		case key == "":
			errs = append(errs, fmt.Errorf("item %d: empty key; want key=value", i+1))
		case props[key] != nil:
			errs = append(errs, fmt.Errorf("item %d: key %s given twice", i+1, quote(key)))
		default:
			props[key] = unescape(rawValue)
		}
	}
	return props, errs
}

// splitEscaped splits s at every sep not preceded by a backslash, keeping
// the escapes in the parts. A trailing lone backslash is an error.
func splitEscaped(s string, sep byte) ([]string, error) {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New("ends with a lone backslash; write \\\\ for a backslash")
			}
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:]), nil
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
