package jobs

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herdhq/herd/internal/apperr"
)

const (
	maxPathLen    = 1024
	maxSegmentLen = 255
)

// CleanFilePath checks a path of a file inside a resource: relative, made
// of non-empty segments, none of them "." or ".." (also after one more
// round of URL decoding, against double-encoded traversal), no backslashes
// and no control characters. It returns the path unchanged when valid.
func CleanFilePath(p string) (string, error) {
	bad := func(why string) (string, error) {
		return "", apperr.New(apperr.Invalid, "invalid file path %q: %s", p, why)
	}
	switch {
	case p == "":
		return bad("it is empty")
	case len(p) > maxPathLen:
		return bad("it is longer than 1024 bytes")
	case !utf8.ValidString(p):
		return bad("it is not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return bad("it must be relative, not start with /")
	case strings.ContainsRune(p, '\\'):
		return bad("it contains a backslash")
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return bad("it contains a control character")
	}
	for seg := range strings.SplitSeq(p, "/") {
		decoded, err := url.PathUnescape(seg)
		if err != nil {
			decoded = seg
		}
		switch {
		case seg == "":
			return bad("it has an empty segment (// or a trailing /)")
		case seg == "." || seg == ".." || decoded == "." || decoded == "..":
			return bad("it may not contain . or .. segments")
		case len(seg) > maxSegmentLen:
			return bad("a segment is longer than 255 bytes")
		}
	}
	return p, nil
}

// CleanDirPrefix normalizes a mount's dirPrefix: "" and "/" mean the mount
// root (""); otherwise leading slashes go and a trailing one is added, so
// "code", "/code" and "code/" are all "code/".
func CleanDirPrefix(prefix string) (string, error) {
	trimmed := strings.Trim(prefix, "/")
	if trimmed == "" {
		return "", nil
	}
	if _, err := CleanFilePath(trimmed); err != nil {
		return "", apperr.New(apperr.Invalid, "invalid dirPrefix %q: %s", prefix, strings.TrimPrefix(apperr.Message(err), "invalid file path "+quote(trimmed)+": "))
	}
	return trimmed + "/", nil
}
