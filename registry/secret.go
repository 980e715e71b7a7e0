package registry

import "strings"

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
