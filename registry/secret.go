package registry

import (
	"net/url"
	"strings"
)

// urlPassword returns the password of a URL's user information, if v is a
// URL that has one.
func urlPassword(v string) string {
	if !strings.Contains(v, "@") {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}
