package listquery

import (
	"net/url"
	"strings"
)

// DecodeQuery parses a raw query string like url.ParseQuery but never fails:
// a '%' not followed by two hex digits is kept as it is, and pairs are split
// on '&' only. CDE clients and tutorials send like patterns unencoded
// (filter=name[like]%ETL%), which url.ParseQuery rejects and
// (*url.URL).Query silently drops, losing the filter.
func DecodeQuery(raw string) url.Values {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key = unescape(key)
		v[key] = append(v[key], unescape(value))
	}
	return v
}

// unescape decodes '+' to a space and valid %XX escapes to their byte,
// keeping any other '%' literally.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
