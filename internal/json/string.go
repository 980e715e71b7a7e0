package json

import "unicode/utf8"

// plainASCII[c] is true for the ASCII bytes a JSON string carries as they are.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SWAR constants: a byte b of x is zero iff (b-1) &^ b has its top bit set,
// so plain ASCII JSON string bytes are tested 8 at a time.
const (
	swarOnes = 0x0101010101010101
	swarTops = 0x8080808080808080
)

// AppendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped (JavaScript line
// terminators), invalid UTF-8 replaced with U+FFFD. HTML characters are
// written as they are.
func AppendString(dst []byte, s string) []byte {
	if !plain(s) {
		return appendEscapedString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plain reports whether every byte of s is plain ASCII that a JSON string
// carries as it is (none below 0x20, none from 0x80, no '"', no '\\'): most
// keys and values. It tests 8 or 4 bytes at a time, the last group
// overlapping the one before it.
func plain(s string) bool {
	n := len(s)
	switch {
	case n >= 8:
		for i := 0; ; i += 8 {
			if i > n-8 {
				i = n - 8 // the tail, overlapping bytes already tested
			}
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if !plainWord(x) {
				return false
			}
			if i == n-8 {
				return true
			}
		}
	case n >= 4:
		a, b := s[:4], s[n-4:]
		x := uint64(a[0]) | uint64(a[1])<<8 | uint64(a[2])<<16 | uint64(a[3])<<24 |
			uint64(b[0])<<32 | uint64(b[1])<<40 | uint64(b[2])<<48 | uint64(b[3])<<56
		return plainWord(x)
	default:
		for i := 0; i < n; i++ {
			if c := s[i]; c >= utf8.RuneSelf || !plainASCII[c] {
				return false
			}
		}
		return true
	}
}

// plainWord reports whether the 8 bytes of x are all plain (see plain).
func plainWord(x uint64) bool {
	q, b := x^(swarOnes*'"'), x^(swarOnes*'\\')
	return ((x-swarOnes*0x20)&^x|(q-swarOnes)&^q|(b-swarOnes)&^b|x)&swarTops == 0
}

// appendEscapedString is AppendString for strings with bytes to escape or
// check.
func appendEscapedString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if plainWord(x) {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
