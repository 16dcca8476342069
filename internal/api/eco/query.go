package eco

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
)

// Paging defaults and limits. KakaoCloud documents the default size; the
// largest size is ours.
const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
)

// The fields a list may be sorted by, and its like-filters, as KakaoCloud
// documents them. VMSortFields also has status, which the documentation
// leaves out of its list but uses in its second VM list example
// (sort=name,desc&sort=status,asc).
var (
	ClusterSortFields = []string{"id", "name", "status", "owner", "clusterType", "clusterVersion",
		"apiKeyStatus", "masterCnt", "workerCnt", "createdAt", "runningAt", "elapsedTime"}
	VMSortFields   = []string{"name", "instanceId", "isMaster", "flavorName", "ip", "floatingIp", "createdAt", "status"}
	ClusterFilters = []string{"name", "apiKeyStatus"}
	VMFilters      = []string{"name", "ip", "instanceId"}
)

// ListQuery is what a list request asks for.
type ListQuery struct {
	Page int // 0-based
	Size int
	// Sort is the order of the items, first order first; empty is the
	// store's own order.
	Sort []Order
	// IncludeTerminated says whether Terminated clusters are listed.
	IncludeTerminated bool
	// Filters are the like-filters given, by parameter name: the items
	// whose field contains the value. A filter given empty is not here.
	Filters map[string]string
}

// Order is one sort order.
type Order struct {
	Field string
	Desc  bool
}

// ParseListQuery reads the query parameters of a list:
//
//   - page: 0 or more, default 0;
//   - size: 1 to MaxPageSize, default DefaultPageSize;
//   - sort, any number of times: field,dir with dir asc or desc (any case,
//     default asc), or as in Spring Data field1,field2,dir, where dir
//     applies to each field; fields must be in sortable; a field sorted
//     by twice keeps its first order;
//   - includeTerminated: true or false (also Spring's yes/no, on/off, 1/0),
//     default true;
//   - the like-filters named in filters, as plain strings.
//
// An empty value is the default. page, size, includeTerminated and the
// filters may be given once. Other parameters are ignored. Every error is
// apperr.Invalid and names the parameter.
func ParseListQuery(v url.Values, sortable, filters []string) (ListQuery, error) {
	q := ListQuery{Size: DefaultPageSize, IncludeTerminated: true, Filters: map[string]string{}}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if s, ok := single(v, "page", fail); ok {
		n, err := strconv.ParseInt(s, 10, 32)
		switch {
		case err != nil:
			fail("page %q must be a whole number", s)
		case n < 0:
			fail("page (%d) must be 0 or more", n)
		default:
			q.Page = int(n)
		}
	}
	if s, ok := single(v, "size", fail); ok {
		n, err := strconv.ParseInt(s, 10, 32)
		switch {
		case err != nil:
			fail("size %q must be a whole number", s)
		case n < 1 || n > MaxPageSize:
			fail("size (%d) must be between 1 and %d", n, MaxPageSize)
		default:
			q.Size = int(n)
		}
	}
	for _, param := range v["sort"] {
		orders, err := parseSort(param, sortable)
		if err != "" {
			fail("%s", err)
			continue
		}
		for _, o := range orders {
			if !slices.ContainsFunc(q.Sort, func(have Order) bool { return have.Field == o.Field }) {
				q.Sort = append(q.Sort, o)
			}
		}
	}
	if s, ok := single(v, "includeTerminated", fail); ok {
		switch strings.ToLower(s) {
		case "true", "yes", "on", "1":
			q.IncludeTerminated = true
		case "false", "no", "off", "0":
			q.IncludeTerminated = false
		default:
			fail("includeTerminated %q must be true or false", s)
		}
	}
	for _, name := range filters {
		if s, ok := single(v, name, fail); ok {
			q.Filters[name] = s
		}
	}
	if len(problems) > 0 {
		return ListQuery{}, apperr.New(apperr.Invalid, "%s", strings.Join(problems, "; "))
	}
	return q, nil
}

// single is the one non-empty value of parameter name.
func single(v url.Values, name string, fail func(string, ...any)) (string, bool) {
	values := v[name]
	switch {
	case len(values) > 1:
		fail("%s is given %d times; give it once", name, len(values))
		return "", false
	case len(values) == 0 || strings.TrimSpace(values[0]) == "":
		return "", false
	}
	return strings.TrimSpace(values[0]), true
}

// parseSort reads one sort parameter; the string is what is wrong with it.
func parseSort(param string, sortable []string) ([]Order, string) {
	if strings.TrimSpace(param) == "" {
		return nil, ""
	}
	parts := strings.Split(param, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	desc, hasDir := false, false
	switch last := strings.ToLower(parts[len(parts)-1]); last {
	case "asc", "desc":
		desc, hasDir = last == "desc", true
		parts = parts[:len(parts)-1]
	}
	var orders []Order
	for i, field := range parts {
		switch {
		case field == "":
			continue
		case !slices.Contains(sortable, field):
			orDir := ""
			if !hasDir && i == len(parts)-1 && i > 0 {
				orDir = ", nor asc or desc"
			}
			return nil, fmt.Sprintf("sort %q: %q is not a field to sort by%s (sortable: %s)",
				param, field, orDir, strings.Join(sortable, ", "))
		}
		orders = append(orders, Order{Field: field, Desc: desc})
	}
	if len(orders) == 0 {
		return nil, fmt.Sprintf("sort %q names no field; give field,asc or field,desc", param)
	}
	return orders, ""
}
