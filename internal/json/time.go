package json

import (
	"fmt"
	"time"
)

// TimestampFormat is the layout of an event line's timestamp: RFC 3339 in
// UTC with microseconds.
const TimestampFormat = "2006-01-02T15:04:05.000000Z"

// AppendTimestamp writes t, in UTC, as a quoted TimestampFormat string; by
// hand, at a fifth of the cost of time.Time.AppendFormat. Years outside
// 0–9999, which RFC 3339 cannot express, are an error.
func AppendTimestamp(dst []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return dst, yearError(year)
	}
	hour, minute, sec := t.Clock()
	micro := t.Nanosecond() / 1000
	b := [len(TimestampFormat) + 2]byte{'"', 0, 0, 0, 0, '-', 0, 0, '-', 0, 0, 'T', 0, 0, ':', 0, 0, ':', 0, 0, '.', 0, 0, 0, 0, 0, 0, 'Z', '"'}
	put2(b[1:], year/100)
	put2(b[3:], year%100)
	put2(b[6:], int(month))
	put2(b[9:], day)
	put2(b[12:], hour)
	put2(b[15:], minute)
	put2(b[18:], sec)
	put2(b[21:], micro/10000)
	put2(b[23:], micro/100%100)
	put2(b[25:], micro%100)
	return append(dst, b[:]...), nil
}

// appendTime writes a time.Time property as encoding/json does (RFC 3339
// with nanoseconds, in its own zone).
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// checkYear refuses the years RFC 3339 cannot express, as
// time.Time.MarshalJSON does.
func checkYear(t time.Time) error {
	if y := t.Year(); y < 0 || y > 9999 {
		return yearError(y)
	}
	return nil
}

func yearError(y int) error { return fmt.Errorf("year %d outside 0–9999", y) }

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" + "60616263646566676869" +
	"70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// put2 writes n, in 0..99, as two digits at b[0:2].
func put2(b []byte, n int) { b[0], b[1] = twoDigits[2*n], twoDigits[2*n+1] }
