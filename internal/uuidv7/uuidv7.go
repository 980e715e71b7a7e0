// Package uuidv7 builds UUIDv7s (RFC 9562) and derives from a UUID the
// per-event random key that samplers decide on (tracker.Event.UUIDRandom).
package uuidv7

import (
	"math/rand/v2"
	"time"

	"github.com/cespare/xxhash/v2"
)

// RandomBits is the number of significant bits in a key: keys are uniform
// in [0, 2^RandomBits).
const RandomBits = 62

const randBMask = 1<<RandomBits - 1

// NewRandom draws the rand_b bits of a future UUIDv7.
func NewRandom() uint64 { return rand.Uint64() & randBMask }

// Key extracts rand_b from a canonical UUID string and mixes it (Mix), or
// hashes s.
func Key(s string) uint64 {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		hi, ok1 := parseHex(s[19:23])
		lo, ok2 := parseHex(s[24:36])
		if ok1 && ok2 {
			return Mix((hi<<48 | lo) & randBMask)
		}
	}
	return xxhash.Sum64String(s) & randBMask
}

// Mix spreads rand_b bits over the key space (a splitmix64
// finalizer): UUIDs from generators that count in their random bits within
// a millisecond (RFC 9562's method 2), or that differ only in their last
// bytes, must not get the same sampling decision.
func Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x & randBMask
}

// hexValue maps a byte to its value as a hex digit, or 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()

func parseHex(s string) (uint64, bool) {
	var v uint64
	bad := byte(0)
	for i := 0; i < len(s); i++ {
		d := hexValue[s[i]]
		bad |= d
		v = v<<4 | uint64(d&0x0f)
	}
	return v, bad&0xf0 == 0
}

const hexDigits = "0123456789abcdef"

// Format builds a UUIDv7 (RFC 9562) from a timestamp, 12 random bits
// (rand_a) and 62 random bits (rand_b).
func Format(t time.Time, randA uint16, randB uint64) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = 0x70 | byte(randA>>8)&0x0f
	b[7] = byte(randA)
	b[8] = 0x80 | byte(randB>>56)&0x3f
	b[9], b[10], b[11], b[12], b[13], b[14], b[15] = byte(randB>>48), byte(randB>>40), byte(randB>>32), byte(randB>>24), byte(randB>>16), byte(randB>>8), byte(randB)
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(out[:])
}
