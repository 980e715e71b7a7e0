package json

import (
	stdjson "encoding/json"
	"strings"
	"testing"
)

// TestAppendStringEscapesAsEncodingJSON puts every byte value at every offset of
// strings of every length up to 24 (through the 4- and 8-byte tests and
// their overlapping tails) and compares with encoding/json (HTML escaping
// off).
func TestAppendStringEscapesAsEncodingJSON(t *testing.T) {
	const plainText = "abcdefghijklmnopqrstuvwx"
	for n := 1; n <= len(plainText); n++ {
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				b := []byte(plainText[:n])
				b[at] = byte(c)
				s := string(b)
				var want strings.Builder
				enc := stdjson.NewEncoder(&want)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(s); err != nil {
					t.Fatal(err)
				}
				if got := string(AppendString(nil, s)) + "\n"; got != want.String() {
					t.Fatalf("byte %#x at %d of %d: got %s want %s", c, at, n, got, want.String())
				}
			}
		}
	}
	for n := 0; n <= len(plainText); n++ {
		if got := string(AppendString(nil, plainText[:n])); got != `"`+plainText[:n]+`"` {
			t.Fatalf("plain %q: got %s", plainText[:n], got)
		}
	}
}
