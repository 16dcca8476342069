package listquery

import (
	"regexp"
	"strconv"
	"time"
)

// timeRE matches a full or partial RFC 3339 timestamp: a date, optionally
// followed by an hour, minutes, seconds and a fraction, then an optional
// offset. A space is accepted for the '+' of an offset, because an
// unencoded '+' in a query string decodes to a space.
var timeRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})` +
	`(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?` +
	`([Zz]|[+ -]\d{2}:\d{2})?)?$`)

// parseTime returns the Unix milliseconds of a full or partial RFC 3339
// timestamp: the start of the period it names, in UTC unless it has an
// offset. Fractions of a millisecond are dropped (rounded down).
func parseTime(s string) (int64, bool) {
	m := timeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	year, month, day := atoi(m[1]), atoi(m[2]), atoi(m[3])
	hour, minute, sec := atoi(m[4]), atoi(m[5]), atoi(m[6])
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos(m[7]), time.UTC)
	if t.Day() != day { // e.g. February 30
		return 0, false
	}
	off, ok := offset(m[8])
	if !ok {
		return 0, false
	}
	return t.Add(-off).UnixMilli(), true
}

// atoi converts digits matched by timeRE; "" (an absent part) is 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// nanos converts the digits of a fraction of a second to nanoseconds.
func nanos(frac string) int {
	n := atoi(frac)
	for i := len(frac); i < 9; i++ {
		n *= 10
	}
	return n
}

// offset converts "", "Z", "+hh:mm", " hh:mm" or "-hh:mm" to a duration east
// of UTC.
func offset(s string) (time.Duration, bool) {
	if len(s) != len("+hh:mm") {
		return 0, true
	}
	h, m := atoi(s[1:3]), atoi(s[4:6])
	if h > 23 || m > 59 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if s[0] == '-' {
		d = -d
	}
	return d, true
}
