package iam

import (
	"strconv"

	"github.com/herdhq/herd/internal/apperr"
)

// CDP paging: pageSize 1..500 (default 100) and an opaque startingToken,
// here the decimal offset of the next item.
const (
	defaultPageSize = 100
	maxPageSize     = 500
)

type page struct{ offset, size int }

type span struct{ start, end int }

func newPage(size int, token string) (page, error) {
	switch {
	case size == 0:
		size = defaultPageSize
	case size < 1 || size > maxPageSize:
		return page{}, apperr.New(apperr.Invalid, "pageSize must be between 1 and %d", maxPageSize)
	}
	offset := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return page{}, apperr.New(apperr.Invalid, "startingToken %q is not a token this server returned", token)
		}
		offset = n
	}
	return page{offset: offset, size: size}, nil
}

// slice returns the part of n items this page covers and the token of the
// next page, empty on the last one.
func (p page) slice(n int) (span, string) {
	start := min(p.offset, n)
	end := min(start+p.size, n)
	next := ""
	if end < n {
		next = strconv.Itoa(end)
	}
	return span{start, end}, next
}
