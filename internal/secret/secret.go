// Package secret holds multitrack's one rule for "does this name look
// secret", for property keys (the tracker removes them) and for environment
// variables (the registry never shows their values), and the one marker
// shown in place of a secret's value.
package secret

import (
	"strings"
	"sync"

	"github.com/multitrack/multitrack/internal/keycache"
)

// Marker is shown in place of a secret's value.
const Marker = "[redacted]"

// DefaultWords returns the words that, by default, mark a property key as
// secret or as carrying SQL text.
func DefaultWords() []string {
	return []string{
		"password", "passwd", "pwd", "passphrase",
		"secret", "token", "api_key", "apikey", "access_key", "private_key",
		"authorization", "auth", "bearer", "credential", "credentials", "cookie",
		"session_id", "dsn", "connection_string",
		"sql", "query_text", "sql_text", "raw_query",
	}
}

// Rule decides whether a name is secret: it is when one of the rule's words
// appears in it as a whole word, case-insensitively, with words split at
// '_', '-', '.', spaces, camelCase and between letters and digits, or as
// its plural. "password" matches "db_password", "userPassword" and
// "password2"; "api_key" matches "stripe_api_key", "apiKey" and "apiKeys";
// "sql" matches "raw_sql" but not "sqlstate". Verdicts are cached per name:
// the names a service uses are few, so the hot path is one map lookup.
type Rule struct {
	phrases []string // each a word's lower-case parts run together
	fused   bool     // a phrase also matches at the end of a word: "APITOKEN"
	recent  verdicts // the hot path: most names are found here
	cache   keycache.Map[bool]
}

// NewRule returns the rule for words.
func NewRule(words []string) *Rule { return newRule(words, false) }

func newRule(words []string, fused bool) *Rule {
	r := &Rule{fused: fused}
	for _, w := range words {
		if ph := strings.Join(splitWords(w), ""); ph != "" {
			r.phrases = append(r.phrases, ph)
		}
	}
	return r
}

// Default is the rule for DefaultWords: the property keys the tracker
// removes.
var Default = sync.OnceValue(func() *Rule { return NewRule(DefaultWords()) })

// variables is the rule for environment variables. It errs on the side of
// hiding: besides DefaultWords, a key, private part or creds of any kind
// (…_SIGNING_KEY, …_PRIVATE_…, …_CREDS) holds a credential in a variable
// far more often than in a property, and a word matches at the end of a
// longer one too (…_APITOKEN, …_SECRETKEY), since upper-case names have no
// camelCase to split.
var variables = sync.OnceValue(func() *Rule {
	return newRule(append(DefaultWords(), "key", "private", "creds"), true)
})

// Variable reports whether the value of the environment variable name must
// never be shown: POSTHOG_API_KEY, MULTITRACK_NATS_TOKEN, MULTITRACK_NATS_CREDS,
// MULTITRACK_WEBHOOK_SIGNING_KEY, but not MULTITRACK_FILE_PATH.
func Variable(name string) bool { return variables().Match(name) }

// notSecret are properties PostHog's own SDKs set whose names look secret
// but hold no credential: an analytics session, a count of tokens. They are
// kept whatever the words, so events from PostHog's SDKs (multitrack serve)
// keep their sessions and LLM token counts.
var notSecret = map[string]bool{
	"$session_id":                      true,
	"$lib_rate_limit_remaining_tokens": true,
	"$ai_input_tokens":                 true,
	"$ai_output_tokens":                true,
	"$ai_cache_read_input_tokens":      true,
	"$ai_cache_creation_input_tokens":  true,
	"$ai_reasoning_tokens":             true,
}

// Match reports whether key is secret under r. A nil Rule matches nothing,
// and PostHog's own $session_id and $…_tokens counts are never secret.
func (r *Rule) Match(key string) bool {
	if r == nil || len(r.phrases) == 0 {
		return false
	}
	// One lookup on the hot path: the caches hold the verdicts on
	// PostHog's own names too.
	if v, ok := r.recent.get(key); ok {
		return v
	}
	v, ok := r.cache.Get(key)
	if !ok {
		v = !notSecret[key] && r.match(key)
		r.cache.Put(key, v)
	}
	r.recent.put(strings.Clone(key), v)
	return v
}

// match reports whether some run of key's words, run together, equals one
// of the phrases or its plural: "api_key", "apiKey", "apikey" and "apiKeys"
// all match both "api_key" and "apikey".
func (r *Rule) match(key string) bool {
	words := splitWords(key)
	for _, ph := range r.phrases {
		for i, w := range words {
			if r.fused && (strings.HasSuffix(w, ph) || strings.HasSuffix(w, ph+"s")) {
				return true
			}
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
