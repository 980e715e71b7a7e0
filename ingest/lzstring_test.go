package ingest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// lzCases are strings compressed by lz-string 1.5.0's compressToBase64, the
// reference implementation (testdata/serve/lzstring/cases.json).
func lzCases(t testing.TB) []struct{ Text, Base64 string } {
	var cases []struct{ Text, Base64 string }
	readJSON(t, filepath.Join("..", "testdata", "serve", "lzstring", "cases.json"), &cases)
	if len(cases) < 5 {
		t.Fatalf("%d lz-string cases", len(cases))
	}
	return cases
}

func TestLZ64DecodesWhatTheReferenceImplementationEncoded(t *testing.T) {
	for i, c := range lzCases(t) {
		got, err := decodeLZ64(c.Base64, 1<<20)
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		// lz-string works on UTF-16; what Go decodes must be that text in UTF-8.
		want := strings.ToValidUTF8(c.Text, "\uFFFD")
		if string(got) != want {
			t.Errorf("case %d: decoded %d bytes %.60q, want %d bytes %.60q", i, len(got), got, len(want), want)
		}
		if !utf8.Valid(got) {
			t.Errorf("case %d: invalid UTF-8", i)
		}
	}
}

func TestLZ64RefusesDamagedInput(t *testing.T) {
	valid := lzCases(t)[4].Base64 // a JSON event
	for name, in := range map[string]string{
		"not base64": valid[:10] + "*" + valid[11:],
		"truncated":  valid[:len(valid)/2],
		"bad code":   "/////////",
	} {
		if _, err := decodeLZ64(in, 1<<20); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

// lzBomb builds an lz-string stream of n codes, each naming the entry being
// defined (w followed by w's first unit): it expands to about n²/2 units.
func lzBomb(n int) string {
	var out strings.Builder
	var cur, used int
	write := func(v, width int) {
		for i := 0; i < width; i++ {
			cur = cur<<1 | (v>>i)&1
			if used++; used == 6 {
				out.WriteByte(lzAlphabet[cur])
				cur, used = 0, 0
			}
		}
	}
	write(0, 2)
	write('a', 8)
	dict, enlarge, numBits := 4, 4, 3
	for i := 0; i < n; i++ {
		write(dict, numBits)
		dict++
		if enlarge--; enlarge == 0 {
			enlarge = 1 << numBits
			numBits++
		}
	}
	write(2, numBits)
	if used > 0 {
		write(0, 6-used)
	}
	return out.String()
}

func TestLZ64BombIsRefusedWithoutTheMemory(t *testing.T) {
	small, err := decodeLZ64(lzBomb(10), 1<<20)
	if err != nil || string(small) != strings.Repeat("a", 66) {
		t.Fatalf("10 codes: %q, %v (the bomb builder is wrong)", small, err)
	}
	bomb := lzBomb(20000) // about 200 million units from 38 KB
	const limit = 1 << 20
	alloc := allocated(func() { _, err = decodeLZ64(bomb, limit) })
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("err = %v, want errTooLarge", err)
	}
	if alloc > 16*limit {
		t.Errorf("allocated %d bytes refusing a bomb over a limit of %d", alloc, limit)
	}
}

func FuzzLZ64(f *testing.F) {
	for _, c := range lzCases(f) {
		f.Add(c.Base64)
	}
	f.Add(lzBomb(300))
	f.Fuzz(func(t *testing.T, in string) {
		const limit = 1 << 16
		out, err := decodeLZ64(in, limit)
		if err == nil && (len(out) > limit || !utf8.Valid(out)) {
			t.Fatalf("decoded %d bytes (limit %d), valid UTF-8 %v", len(out), limit, utf8.Valid(out))
		}
	})
}
