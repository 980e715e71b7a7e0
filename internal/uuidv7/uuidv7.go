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

// hexPairs holds each byte's two hex digits.
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{digits[i>>4], digits[i&0x0f]}
	}
	return t
}()

// putHex writes the low len(dst)/2 bytes of v into dst as hex digits.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 2; i >= 0; i -= 2 {
		p := hexPairs[byte(v)]
		dst[i], dst[i+1] = p[0], p[1]
		v >>= 8
	}
}

// Format builds a UUIDv7 (RFC 9562) from a timestamp, 12 bits for rand_a
// and 62 random bits (rand_b).
func Format(t time.Time, randA uint16, randB uint64) string {
	hi := uint64(t.UnixMilli())<<16 | 0x7000 | uint64(randA&0x0fff) // unix_ts_ms, ver, rand_a
	lo := 1<<63 | randB&randBMask                                   // var, rand_b
	var out [36]byte
	putHex(out[0:8], hi>>32)
	putHex(out[9:13], hi>>16)
	putHex(out[14:18], hi)
	putHex(out[19:23], lo>>48)
	putHex(out[24:36], lo)
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// SubMillis returns the fraction of its millisecond that t is past, in
// 1/4096ths: the 12 bits of rand_a under RFC 9562's method 3 ("replace
// leftmost random bits with increased clock precision"), so that UUIDs of
// one process sort by time within a millisecond too.
func SubMillis(t time.Time) uint16 {
	return uint16(uint64(t.Nanosecond()%1e6) << 12 / 1e6)
}
