package tracker

import "strings"

// DefaultRedactedKeys returns the words that, by default, mark a property
// key as secret or as carrying SQL text. See WithRedactedKeys for how they
// match.
func DefaultRedactedKeys() []string {
	return []string{
		"password", "passwd", "pwd", "passphrase",
		"secret", "token", "api_key", "apikey", "access_key", "private_key",
		"authorization", "auth", "bearer", "credential", "credentials", "cookie",
		"session_id", "dsn", "connection_string",
		"sql", "query_text", "sql_text", "raw_query",
	}
}

// redactor decides, for a property key, whether it is secret. Verdicts are
// cached per key in a copy-on-write map: the set of keys a service uses is
// small, so the hot path is one map lookup per key.
type redactor struct {
	phrases []string // each a phrase's lower-case words run together
	cache   keyCache[bool]
}

func newRedactor(words []string) *redactor {
	r := &redactor{}
	for _, w := range words {
		if ph := strings.Join(splitWords(w), ""); ph != "" {
			r.phrases = append(r.phrases, ph)
		}
	}
	return r
}

// secret reports whether key matches one of the phrases.
func (r *redactor) secret(key string) bool {
	if len(r.phrases) == 0 {
		return false
	}
	if v, ok := r.cache.get(key); ok {
		return v
	}
	v := r.match(key)
	r.cache.put(key, v)
	return v
}

// match reports whether some run of key's words, run together, equals one
// of the phrases run together, or its plural: "api_key", "apiKey", "apikey"
// and "apiKeys" all match both "api_key" and "apikey".
func (r *redactor) match(key string) bool {
	words := splitWords(key)
	for _, ph := range r.phrases {
		for i := range words {
			run := ""
			for _, w := range words[i:] {
				run += w
				if run == ph || run == ph+"s" {
					return true
				}
				if len(run) >= len(ph) {
					break
				}
			}
		}
	}
	return false
}

// splitWords lower-cases s and splits it into words at non-alphanumeric
// bytes, at camelCase boundaries and between letters and digits
// ("userAPIKey2" -> user, api, key, 2).
func splitWords(s string) []string {
	var words []string
	start := -1
	isUpper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	isLower := func(c byte) bool { return 'a' <= c && c <= 'z' }
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isUpper(c) && !isLower(c) && !isDigit(c) && c < 0x80 {
			if start >= 0 {
				words = append(words, strings.ToLower(s[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		// Within a word, s[i-1] is alphanumeric too.
		p := s[i-1]
		camel := isUpper(c) && (isLower(p) || isDigit(p) || i+1 < len(s) && isLower(s[i+1]) && isUpper(p))
		if camel || isDigit(c) != isDigit(p) { // "userAPIKey", "password2", "v2Token"
			words = append(words, strings.ToLower(s[start:i]))
			start = i
		}
	}
	if start >= 0 {
		words = append(words, strings.ToLower(s[start:]))
	}
	return words
}

// IsSecretKey reports whether the tracker, with its default list
// (DefaultRedactedKeys), would remove a property with this key.
func IsSecretKey(key string) bool { return defaultRedactor().secret(key) }
