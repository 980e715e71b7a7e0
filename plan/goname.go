package plan

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// initialisms are the words Go names spell in capitals (as golint's list).
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DB": true, "DNS": true,
	"EOF": true, "GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true,
	"JSON": true, "OS": true, "QPS": true, "RAM": true, "RPC": true, "SLA": true, "SMTP": true,
	"SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true, "UDP": true, "UI": true,
	"UID": true, "UUID": true, "URI": true, "URL": true, "UTF8": true, "VM": true, "XML": true,
}

// goName derives an exported Go name from an event's, a property's or an
// enum value's name: "trace_id" gives TraceID, "query_failed"
// QueryFailed, "create-table" CreateTable. It returns "" when the name has
// no letter or digit. A name starting with a digit gets prefix in front.
func goName(name, prefix string) string {
	var b strings.Builder
	for _, w := range words(name) {
		if up := strings.ToUpper(w); initialisms[up] {
			b.WriteString(up)
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[n:])
	}
	s := b.String()
	if s == "" {
		return ""
	}
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(r) || !unicode.IsUpper(r) {
		s = prefix + s
	}
	return s
}

// words splits s at every byte that is not a letter or digit, and at
// lower-to-upper case changes ("traceId" -> trace, Id).
func words(s string) []string {
	var out []string
	start := -1
	var prev rune
	for i, r := range s {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case !alnum:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		case start < 0:
			start = i
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			out = append(out, s[start:i])
			start = i
		}
		prev = r
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
