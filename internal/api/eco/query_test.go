package eco

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/apperr"
)

func TestParseListQuery(t *testing.T) {
	t.Parallel()
	none := map[string]string{}
	tests := []struct {
		name    string
		query   string
		vms     bool // the VM list's fields instead of the cluster list's
		want    ListQuery
		wantErr string
	}{
		{name: "defaults", query: "",
			want: ListQuery{Page: 0, Size: 20, IncludeTerminated: true, Filters: none}},
		{name: "seed cluster list 1", query: "page=2&size=3&sort=name,desc&sort=status,asc",
			want: ListQuery{Page: 2, Size: 3, Sort: []Order{{"name", true}, {"status", false}}, IncludeTerminated: true, Filters: none}},
		{name: "seed cluster list 2", query: "page=0&size=5&includeTerminated=false&name=test&sort=createdAt,asc&apiKeyStatus=impossible",
			want: ListQuery{Size: 5, Sort: []Order{{"createdAt", false}}, Filters: map[string]string{"name": "test", "apiKeyStatus": "impossible"}}},
		{name: "seed VM list 2 sorts by status", query: "page=0&size=10&name=WRK&sort=name,desc&sort=status,asc", vms: true,
			want: ListQuery{Size: 10, Sort: []Order{{"name", true}, {"status", false}}, IncludeTerminated: true, Filters: map[string]string{"name": "WRK"}}},
		{name: "seed VM list 3", query: "page=0&size=5&name=hailey13&instanceId=-4c3b&sort=isMaster,desc&sort=ip,asc", vms: true,
			want: ListQuery{Size: 5, Sort: []Order{{"isMaster", true}, {"ip", false}}, IncludeTerminated: true,
				Filters: map[string]string{"name": "hailey13", "instanceId": "-4c3b"}}},
		{name: "direction in any case, default asc", query: "sort=name,DESC&sort=createdAt&sort=owner,Asc",
			want: ListQuery{Size: 20, Sort: []Order{{"name", true}, {"createdAt", false}, {"owner", false}}, IncludeTerminated: true, Filters: none}},
		{name: "Spring's fields then one direction", query: "sort=name,status,desc",
			want: ListQuery{Size: 20, Sort: []Order{{"name", true}, {"status", true}}, IncludeTerminated: true, Filters: none}},
		{name: "spaces and empty sort", query: "sort=&sort=+name+,+desc+&page=+1+",
			want: ListQuery{Page: 1, Size: 20, Sort: []Order{{"name", true}}, IncludeTerminated: true, Filters: none}},
		{name: "a field sorted twice keeps its first order", query: "sort=name,desc&sort=name,asc",
			want: ListQuery{Size: 20, Sort: []Order{{"name", true}}, IncludeTerminated: true, Filters: none}},
		{name: "Spring booleans", query: "includeTerminated=NO",
			want: ListQuery{Size: 20, IncludeTerminated: false, Filters: none}},
		{name: "includeTerminated true", query: "includeTerminated=True",
			want: ListQuery{Size: 20, IncludeTerminated: true, Filters: none}},
		{name: "empty values are defaults", query: "page=&size=&includeTerminated=&name=",
			want: ListQuery{Size: 20, IncludeTerminated: true, Filters: none}},
		{name: "size bounds", query: "size=1000&page=2147483647",
			want: ListQuery{Page: 2147483647, Size: 1000, IncludeTerminated: true, Filters: none}},
		{name: "other parameters ignored", query: "foo=bar&ip=1.2.3.4",
			want: ListQuery{Size: 20, IncludeTerminated: true, Filters: none}},
		{name: "VM filters", query: "ip=10.0.&instanceId=abc", vms: true,
			want: ListQuery{Size: 20, IncludeTerminated: true, Filters: map[string]string{"ip": "10.0.", "instanceId": "abc"}}},

		{name: "page negative", query: "page=-1", wantErr: "page (-1) must be 0 or more"},
		{name: "page text", query: "page=two", wantErr: `page "two" must be a whole number`},
		{name: "page huge", query: "page=99999999999", wantErr: `page "99999999999" must be a whole number`},
		{name: "size 0", query: "size=0", wantErr: "size (0) must be between 1 and 1000"},
		{name: "size 1001", query: "size=1001", wantErr: "size (1001) must be between 1 and 1000"},
		{name: "size fraction", query: "size=2.5", wantErr: `size "2.5" must be a whole number`},
		{name: "page twice", query: "page=1&page=2", wantErr: "page is given 2 times; give it once"},
		{name: "filter twice", query: "name=a&name=b", wantErr: "name is given 2 times"},
		{name: "includeTerminated", query: "includeTerminated=maybe", wantErr: `includeTerminated "maybe" must be true or false`},
		{name: "sort field", query: "sort=nodeCnt,asc", wantErr: `sort "nodeCnt,asc": "nodeCnt" is not a field to sort by (sortable: id, name, status, owner, clusterType, clusterVersion, apiKeyStatus, masterCnt, workerCnt, createdAt, runningAt, elapsedTime)`},
		{name: "sort direction", query: "sort=name,up", wantErr: `sort "name,up": "up" is not a field to sort by, nor asc or desc`},
		{name: "sort field case", query: "sort=Name", wantErr: `"Name" is not a field to sort by`},
		{name: "VM sort field", query: "sort=apiKeyStatus", vms: true, wantErr: "(sortable: name, instanceId, isMaster, flavorName, ip, floatingIp, createdAt, status)"},
		{name: "sort without field", query: "sort=desc", wantErr: `sort "desc" names no field`},
		{name: "several problems", query: "page=x&size=0", wantErr: `page "x" must be a whole number; size (0) must be between 1 and 1000`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			sortable, filters := ClusterSortFields, ClusterFilters
			if tc.vms {
				sortable, filters = VMSortFields, VMFilters
			}
			got, err := ParseListQuery(v, sortable, filters)
			if tc.wantErr != "" {
				if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(apperr.Message(err), tc.wantErr) {
					t.Fatalf("error %v; want Invalid with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
