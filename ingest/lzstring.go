package ingest

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf16"
)

// lz-string's base64 alphabet; '=' reads as 64, which has no bit in a
// six-bit group, so padding decodes as zero bits.
const lzAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

var lzValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(lzAlphabet); i++ {
		t[lzAlphabet[i]] = int8(i)
	}
	t[' '] = t['+'] // a '+' that form decoding turned into a space
	return t
}()

var errLZTruncated = errors.New("lz64: the data ends in the middle of the stream")

// lzNode is one dictionary entry: the entry prefix followed by last. Entries
// are chains, not copies, so memory stays linear in the number of codes
// whatever the length of the strings they stand for.
type lzNode struct {
	prefix int32  // index of the prefix entry, -1 for a single character
	last   uint16 // the final UTF-16 code unit
	first  uint16 // the first code unit (entry[0])
	size   int32  // length in code units
}

// lzReader reads the bit stream: six bits a character, lowest bit of each
// value first, most significant bit of each character first.
type lzReader struct {
	in       string
	index    int
	val      int
	position int
}

func (r *lzReader) next() (int, error) {
	if r.index >= len(r.in) {
		r.index++
		return 0, nil // past the end reads as zeros, as in the reference implementation
	}
	v := lzValue[r.in[r.index]]
	if v < 0 {
		return 0, fmt.Errorf("lz64: byte %d: %q is not in the base64 alphabet", r.index, r.in[r.index])
	}
	r.index++
	return int(v), nil
}

func (r *lzReader) bits(n int) (int, error) {
	out := 0
	for i := 0; i < n; i++ {
		bit := r.val & r.position
		r.position >>= 1
		if r.position == 0 {
			r.position = 32
			v, err := r.next()
			if err != nil {
				return 0, err
			}
			r.val = v
		}
		if bit != 0 {
			out |= 1 << i
		}
	}
	return out, nil
}

// decodeLZ64 decompresses lz-string's compressToBase64 output (the "lz64"
// compression of old PostHog browser SDKs) to UTF-8. It fails, without
// holding more than about twice that much, when the result would exceed max
// bytes: errTooLarge.
func decodeLZ64(in string, max int) ([]byte, error) {
	if in == "" {
		return []byte{}, nil
	}
	max = min(max, math.MaxInt32-1) // entry sizes are int32
	r := &lzReader{in: in, position: 32}
	v, err := r.next()
	if err != nil {
		return nil, err
	}
	r.val = v

	var (
		dict     = make([]lzNode, 3, 1024) // 0, 1, 2 are the stream's codes
		out      []uint16
		utf8Size int
		enlarge  = 4
		numBits  = 3
	)
	// emit appends entry k to out, failing once the UTF-8 result would
	// exceed max.
	emit := func(k int) error {
		n := int(dict[k].size)
		if len(out)+n > max { // each unit is at least one byte of UTF-8
			return errTooLarge
		}
		start := len(out)
		out = append(out, make([]uint16, n)...)
		for j, i := k, start+n-1; i >= start; i-- {
			out[i] = dict[j].last
			j = int(dict[j].prefix)
		}
		for _, u := range out[start:] {
			utf8Size += utf8Len(u)
		}
		if utf8Size > max {
			return errTooLarge
		}
		return nil
	}
	literal := func(code int) (int, error) {
		width := 8
		if code == 1 {
			width = 16
		}
		c, err := r.bits(width)
		if err != nil {
			return 0, err
		}
		dict = append(dict, lzNode{prefix: -1, last: uint16(c), first: uint16(c), size: 1})
		return len(dict) - 1, nil
	}

	code, err := r.bits(2)
	if err != nil {
		return nil, err
	}
	if code == 2 {
		return []byte{}, nil
	}
	if code == 3 {
		return nil, errors.New("lz64: the stream does not start with a literal")
	}
	w, err := literal(code)
	if err != nil {
		return nil, err
	}
	if err := emit(w); err != nil {
		return nil, err
	}
	for {
		if r.index > len(in) {
			return nil, errLZTruncated
		}
		c, err := r.bits(numBits)
		if err != nil {
			return nil, err
		}
		switch c {
		case 0, 1:
			if c, err = literal(c); err != nil {
				return nil, err
			}
			enlarge--
		case 2:
			b := utf16ToUTF8(out)
			if len(b) > max { // lone surrogates grew into U+FFFD
				return nil, errTooLarge
			}
			return b, nil
		}
		if enlarge == 0 {
			enlarge = 1 << numBits
			numBits++
		}
		// The entry for c is known, or is the one being defined now (w
		// followed by w's first unit); either way the next entry is w
		// followed by the first unit of c's.
		var first uint16
		switch {
		case c < len(dict):
			first = dict[c].first
		case c == len(dict):
			first = dict[w].first
		default:
			return nil, fmt.Errorf("lz64: code %d is not in the dictionary (%d entries)", c, len(dict))
		}
		if len(dict) >= math.MaxInt32 {
			return nil, errTooLarge
		}
		dict = append(dict, lzNode{prefix: int32(w), last: first, first: dict[w].first, size: dict[w].size + 1})
		if err := emit(c); err != nil {
			return nil, err
		}
		enlarge--
		w = c
		if enlarge == 0 {
			enlarge = 1 << numBits
			numBits++
		}
	}
}

func utf8Len(u uint16) int {
	switch {
	case u < 0x80:
		return 1
	case u < 0x800:
		return 2
	case utf16.IsSurrogate(rune(u)):
		return 2 // a pair is four bytes; a lone one, U+FFFD, is checked at the end
	default:
		return 3
	}
}

// utf16ToUTF8 converts code units to UTF-8; unpaired surrogates become
// U+FFFD, as JSON decoding would make them.
func utf16ToUTF8(units []uint16) []byte {
	return []byte(string(utf16.Decode(units)))
}
