package registry

import "strings"

// Redacted is shown in place of a secret's value.
const Redacted = "[redacted]"

// secretParts mark a variable's name, or a property key shown by Describe,
// as secret when they appear anywhere in it, in any case. Matching parts of
// words errs on the side of hiding: MULTITRACK_X_KEYSPACE is hidden too.
var secretParts = []string{
	"key", "token", "secret", "passw", "passphrase", "pwd", "credential",
	"auth", "bearer", "cookie", "dsn", "private",
}

// looksSecret reports whether the value of the variable (or property) name
// must never be shown.
func looksSecret(name string) bool {
	name = strings.ToLower(name)
	for _, p := range secretParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// urlPassword returns the password of a URL's user information, if v is
// a URL that has one, as it is written in v (percent-encoded or not, and
// whether or not the URL parses): the text to cut out. It errs on the side
// of hiding: everything between the first ':' and the last '@' after the
// scheme.
func urlPassword(v string) string {
	_, rest, ok := strings.Cut(v, "://")
	if !ok {
		return ""
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}
