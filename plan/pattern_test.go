package plan

import (
	"regexp"
	"testing"
)

// patternCases says which patterns take the one-scan form.
var patternCases = []struct {
	pattern string
	fast    bool
}{
	{"[0-9A-Z]{5}", true},
	{"[0-9a-f]{32}", true},
	{"[a-z]{2}-[a-z]+-[0-9]+", true},
	{"^v[0-9]+\\.[0-9]+$", true},
	{"ab?c*d{2,3}", true},
	{"(abc)", true},
	{"", true},
	{"\\d{3}-\\d{4}", true},
	{"[a-z]+[a-z]", false},   // greedy would take the last letter too
	{"[a-z]*-?[a-z]", false}, // the optional dash does not separate
	{"a|b", true},            // parsed as the class [ab]
	{"ab|cd", false},
	{"(ab)+", false},
	{".*", false},
	{"[^-]+", false}, // reaches beyond ASCII
	{"(?i)k", false}, // folds to the Kelvin sign
	{"é+", false},
}

// patternInputs are strings to try every pattern on.
func patternInputs() []string {
	in := []string{"", "42P01", "42p01", "eu-west-1", "eu-west-", "EU-west-1", "v1.2", "v1.2.3", "abcdd", "acddd", "abccccddd", "abc", "123-4567", "123-456", "ab-c", "abc-", "é", "éé", "K", "k", "\u212a", "a\nb"}
	// every string of up to 4 bytes over a small alphabet
	const alphabet = "a-1Z"
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		in = append(in, prefix)
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			walk(prefix+alphabet[i:i+1], n-1)
		}
	}
	walk("", 4)
	return append(in, "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeF")
}

func TestFastPatternsAgreeWithRegexp(t *testing.T) {
	inputs := patternInputs()
	for _, tc := range patternCases {
		re, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		m := newMatcher(tc.pattern, re)
		if fast := m.steps != nil; fast != tc.fast {
			t.Errorf("%q: fast form %v, want %v", tc.pattern, fast, tc.fast)
		}
		// The reference: the whole value must match, anchored here by hand
		// so that compilePattern's anchoring is under test too.
		whole := regexp.MustCompile(`^(?:` + tc.pattern + `)$`)
		for _, s := range inputs {
			if got, want := m.match(s), whole.MatchString(s); got != want {
				t.Errorf("%q on %q: %v, regexp says %v", tc.pattern, s, got, want)
			}
		}
	}
}

func FuzzMatcherAgreesWithRegexp(f *testing.F) {
	for _, tc := range patternCases {
		f.Add(tc.pattern, "eu-west-1")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := compilePattern(pattern)
		if err != nil {
			return
		}
		m := newMatcher(pattern, re)
		if got, want := m.match(s), re.MatchString(s); got != want {
			t.Fatalf("%q on %q: %v, regexp says %v (fast form %v)", pattern, s, got, want, m.steps != nil)
		}
	})
}
