package secret

import (
	"fmt"
	"testing"
)

func TestRuleMatchesWholeWordsAndPlurals(t *testing.T) {
	r := Default()
	cases := []struct {
		key    string
		secret bool
	}{
		{"password", true},
		{"db_password", true},
		{"userPassword", true},
		{"PASSWORD", true},
		{"api_key", true},
		{"apiKey", true},
		{"apikey", true},
		{"stripe-api-key", true},
		{"userAPIKey", true},
		{"Authorization", true},
		{"access_token", true},
		{"refreshToken", true},
		{"client.secret", true},
		{"sql", true},
		{"raw_sql", true},
		{"query_text", true},
		{"queryText", true},
		{"sqlstate", false},
		{"error_category", false},
		{"user", false},
		{"trace_id", false},
		{"tokens_used", true}, // plurals match: "tokens", "secrets", "apiKeys"
		{"password2", true},
		{"dbPassword1", true},
		{"secrets", true},
		{"apiKeys", true},
		{"cookies", true},
		{"token_count_v2", true},
		{"authors", false},
		{"author", false},
		{"duration_ms", false},
		{"", false},
		// PostHog's own properties: a session and token counts, not credentials.
		{"$session_id", false},
		{"session_id", true},
		{"$lib_rate_limit_remaining_tokens", false},
		{"$ai_input_tokens", false},
		{"$ai_output_tokens", false},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			// twice: computed, then cached
			for i := 0; i < 2; i++ {
				if got := r.Match(c.key); got != c.secret {
					t.Fatalf("secret(%q) = %v, want %v (pass %d)", c.key, got, c.secret, i)
				}
			}
		})
	}
}

func TestRuleOfOtherWords(t *testing.T) {
	r := NewRule([]string{"ssn", "credit_card"})
	for key, want := range map[string]bool{"ssn": true, "user_ssn": true, "creditCard": true, "password": false} {
		if got := r.Match(key); got != want {
			t.Errorf("secret(%q) = %v, want %v", key, got, want)
		}
	}
	if NewRule(nil).Match("password") {
		t.Error("an empty list redacts nothing")
	}
}

func TestSplitWordsAtCaseDigitsAndPunctuation(t *testing.T) {
	for in, want := range map[string]string{
		"userAPIKey":  "user api key",
		"HTTPServer":  "http server",
		"db_password": "db password",
		"a.b-c d":     "a b c d",
		"sqlstate":    "sqlstate",
		"X":           "x",
		"__x__":       "x",
		"queryText2":  "query text 2",
		"v2Token":     "v 2 token",
	} {
		got := ""
		for i, w := range splitWords(in) {
			if i > 0 {
				got += " "
			}
			got += w
		}
		if got != want {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVariableHidesCredentialsOfEveryKind(t *testing.T) {
	for name, want := range map[string]bool{
		"POSTHOG_API_KEY":                 true,
		"MULTITRACK_NATS_TOKEN":           true,
		"MULTITRACK_NATS_CREDS":           true,
		"MULTITRACK_WEBHOOK_SIGNING_KEY":  true,
		"MULTITRACK_WEBHOOK_APITOKEN":     true,
		"MULTITRACK_S3_SECRETKEY":         true,
		"MULTITRACK_DB_PASSWORD":          true,
		"MULTITRACK_SSH_PRIVATE_KEY_FILE": true,
		"MULTITRACK_X_AUTH":               true,
		"MULTITRACK_FILE_PATH":            false,
		"MULTITRACK_X_KEYSPACE":           false,
		"MULTITRACK_SINKS":                false,
		"MULTITRACK_SERVE_API_KEYS":       true, // hidden, as before: the rule errs on the side of hiding
		"MULTITRACK_PLAN_MODE":            false,
	} {
		if got := Variable(name); got != want {
			t.Errorf("Variable(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPostHogsOwnPropertiesAreKeptWhateverTheWords(t *testing.T) {
	r := NewRule([]string{"session_id", "tokens"})
	for _, key := range []string{"$session_id", "$ai_input_tokens"} {
		if r.Match(key) {
			t.Errorf("%s is PostHog's own property, not a secret", key)
		}
	}
	if !r.Match("my_session_id") {
		t.Error("my_session_id should match session_id")
	}
}

// The verdicts Match caches are the verdicts it computes, for every name,
// however many names share a slot of the table of recent verdicts: a name
// that lost its slot is judged again from the map behind, correctly.
func TestCachedVerdictsAreTheComputedOnes(t *testing.T) {
	r := NewRule(DefaultWords())
	fresh := func(name string) bool { return NewRule(DefaultWords()).Match(name) }
	var names []string
	for i := range 3 * verdictSlots {
		names = append(names, fmt.Sprintf("prop_%d", i), fmt.Sprintf("db_password_%d", i), fmt.Sprintf("x%d_token", i))
	}
	names = append(names, "", "a", "sql", "sqlstate", "$session_id", "apiKeys", "trace_id", "userPassword")
	for round := range 3 {
		for _, n := range names {
			if got, want := r.Match(n), fresh(n); got != want {
				t.Fatalf("round %d: Match(%q) = %v, computed %v", round, n, got, want)
			}
		}
	}
	// Names that differ only in their middle share a quick hash: each is
	// still judged on its whole text.
	a, b := "aaaaaaaa_password_zzzzzzzz", "aaaaaaaa_passport_zzzzzzzz"
	if quickHash(a) != quickHash(b) {
		t.Fatalf("quickHash differs: the case below tests nothing")
	}
	for range 3 {
		if !r.Match(a) || r.Match(b) {
			t.Fatalf("Match(%q) = %v, Match(%q) = %v", a, r.Match(a), b, r.Match(b))
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	r := NewRule(DefaultWords())
	keys := []string{"user", "trace_id", "duration_ms", "rows", "cached"}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			r.Match(k)
		}
	}
}
