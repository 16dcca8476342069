package eco

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ms(v int64) *int64 { return &v }

func mustQuery(t *testing.T, raw string, sortable, filters []string) ListQuery {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseListQuery(v, sortable, filters)
	if err != nil {
		t.Fatalf("ParseListQuery(%q): %v", raw, err)
	}
	return q
}

// listExample1 is the first cluster list example of KakaoCloud's
// documentation, built through ParseListQuery and NewPage.
func listExample1(t *testing.T) Page[ClusterItem] {
	t.Helper()
	terminated := func(id string, created, running, elapsed int64) ClusterItem {
		return ClusterItem{
			ID: id, Name: "sally-kbctest", Status: "Terminated(User)", Owner: "", ClusterType: "hadoop",
			ClusterVersion: "hde-2.0.1", IsScalable: false, APIKeyStatus: "impossible",
			CreatedAt: created, RunningAt: ms(running), ElapsedTime: elapsed,
		}
	}
	content := []ClusterItem{
		terminated("fa70ff9f-98a2-446c-9f33-75d7dce7c160", 1716359078000, 1716359422659, 12108694),
		terminated("3ec42a8d-a5a3-42ef-9c34-e270db0354b1", 1716536420000, 1716536754352, 265434374),
		terminated("d66c3ff5-29f3-4f2d-a611-4d343573cc17", 1717049297000, 1717049871150, 727811),
	}
	q := mustQuery(t, "page=2&size=3&sort=name,desc&sort=status,asc", ClusterSortFields, ClusterFilters)
	return NewPage(content, q, 96)
}

func TestListExample1Golden(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(listExample1(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "list-example-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantV, gotV); diff != "" {
		t.Errorf("list example 1 (-seed +ours):\n%s", diff)
	}

	// Key order: the page's and the items' follow the seed. (Inside
	// pageable the seed's two examples disagree on paged/unpaged; ours is
	// the order of its field table.)
	for _, path := range []string{"", "content.0", "sort"} {
		if g, w := keyOrder(t, got, path), keyOrder(t, want, path); !slices.Equal(g, w) {
			t.Errorf("keys of %q: %q, seed has %q", path, g, w)
		}
	}
}

// keyOrder lists the keys of the object at path ("" for the top, "a.0.b"
// for deeper) in the order the JSON has them.
func keyOrder(t *testing.T, data []byte, path string) []string {
	t.Helper()
	var v any = json.RawMessage(data)
	if path != "" {
		for _, step := range strings.Split(path, ".") {
			var next any
			raw := v.(json.RawMessage)
			if step[0] >= '0' && step[0] <= '9' {
				var list []json.RawMessage
				if err := json.Unmarshal(raw, &list); err != nil {
					t.Fatal(err)
				}
				next = list[int(step[0]-'0')]
			} else {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatal(err)
				}
				next = m[step]
			}
			v = next
		}
	}
	dec := json.NewDecoder(bytes.NewReader(v.(json.RawMessage)))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestNewPage(t *testing.T) {
	t.Parallel()
	sorted := Sort{Sorted: true}
	unsorted := Sort{Empty: true, Unsorted: true}
	tests := []struct {
		name  string
		query string
		n     int // items on the page
		total int
		want  Page[int]
	}{
		{"seed cluster list 1", "page=2&size=3&sort=name,desc&sort=status,asc", 3, 96, Page[int]{
			Pageable:   Pageable{PageNumber: 2, PageSize: 3, Sort: sorted, Offset: 6, Paged: true},
			TotalPages: 32, TotalElements: 96, Size: 3, Number: 2, Sort: sorted, NumberOfElements: 3,
		}},
		{"seed cluster list 2", "page=0&size=5&includeTerminated=false&name=test&sort=createdAt,asc&apiKeyStatus=impossible", 2, 2, Page[int]{
			Pageable:   Pageable{PageNumber: 0, PageSize: 5, Sort: sorted, Offset: 0, Paged: true},
			TotalPages: 1, TotalElements: 2, Last: true, Size: 5, Number: 0, Sort: sorted, NumberOfElements: 2, First: true,
		}},
		{"seed VM list 1", "sort=name,asc&page=0&size=10", 4, 4, Page[int]{
			Pageable:   Pageable{PageNumber: 0, PageSize: 10, Sort: sorted, Offset: 0, Paged: true},
			TotalPages: 1, TotalElements: 4, Last: true, Size: 10, Number: 0, Sort: sorted, NumberOfElements: 4, First: true,
		}},
		{"nothing at all", "", 0, 0, Page[int]{
			Pageable:   Pageable{PageNumber: 0, PageSize: 20, Sort: unsorted, Paged: true},
			TotalPages: 0, TotalElements: 0, Last: true, Size: 20, Sort: unsorted, First: true, Empty: true,
		}},
		{"past the end", "page=5&size=10", 0, 12, Page[int]{
			Pageable:   Pageable{PageNumber: 5, PageSize: 10, Sort: unsorted, Offset: 50, Paged: true},
			TotalPages: 2, TotalElements: 12, Last: true, Size: 10, Number: 5, Sort: unsorted, Empty: true,
		}},
		{"last, partly full", "page=3&size=3", 2, 11, Page[int]{
			Pageable:   Pageable{PageNumber: 3, PageSize: 3, Sort: unsorted, Offset: 9, Paged: true},
			TotalPages: 4, TotalElements: 11, Last: true, Size: 3, Number: 3, Sort: unsorted, NumberOfElements: 2,
		}},
		{"exactly full pages", "page=1&size=5", 5, 10, Page[int]{
			Pageable:   Pageable{PageNumber: 1, PageSize: 5, Sort: unsorted, Offset: 5, Paged: true},
			TotalPages: 2, TotalElements: 10, Last: true, Size: 5, Number: 1, Sort: unsorted, NumberOfElements: 5,
		}},
		{"stale total corrected as PageImpl does", "page=1&size=10", 3, 5, Page[int]{
			Pageable:   Pageable{PageNumber: 1, PageSize: 10, Sort: unsorted, Offset: 10, Paged: true},
			TotalPages: 2, TotalElements: 13, Last: true, Size: 10, Number: 1, Sort: unsorted, NumberOfElements: 3,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := mustQuery(t, tc.query, ClusterSortFields, ClusterFilters)
			content := make([]int, tc.n)
			got := NewPage(content, q, tc.total)
			tc.want.Content = content
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"NewPage(nil)": NewPage[VM](nil, ListQuery{Size: 20}, 0),
		"Page{}":       Page[VM]{},
		"*Page":        &Page[VM]{},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(`{"content":[],"pageable":`)) {
			t.Errorf("%s: %s", name, b)
		}
	}
	b, err := json.Marshal(Cluster{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"securityGroupIds":[]`, `"masterInfo":[]`, `"workerInfo":[]`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("Cluster{} has no %s: %s", want, b)
		}
	}
}

// TestAbsentValues checks the null-or-omitted rule of wire.go.
func TestAbsentValues(t *testing.T) {
	t.Parallel()
	decode := func(v any) map[string]any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	item := decode(ClusterItem{ID: "c", Status: "Initializing", CreatedAt: 1})
	if v, ok := item["runningAt"]; !ok || v != nil {
		t.Errorf("list item runningAt before Running: %v, %v; want null", v, ok)
	}
	cl := decode(Cluster{ID: "c", Config: ClusterConfig{HDFSBlockSize: 128, HDFSReplication: 3}})
	if v, ok := cl["runningAt"]; !ok || v != nil {
		t.Errorf("cluster runningAt before Running: %v, %v; want null", v, ok)
	}
	for _, k := range []string{"hueUrl", "hmasterUrl", "trinoUrl", "druidUrl", "supersetUrl", "userTask", "hiveDbInfo", "dataCatalogInfo", "redisInfo"} {
		if _, ok := cl[k]; ok {
			t.Errorf("cluster has %s with no value", k)
		}
	}
	if diff := cmp.Diff(map[string]any{"hdfsBlockSize": 128.0, "hdfsReplication": 3.0}, cl["config"]); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"userId": ""}, cl["adminInfo"]); diff != "" {
		t.Errorf("adminInfo (-want +got):\n%s", diff)
	}
	redis := decode(RedisInfo{ObjectID: "r", DBIDSupersetCelery: 0, DBIDSupersetResults: 1})
	want := map[string]any{"objectId": "r", "clusterEnabled": false, "dbIdSupersetCelery": 0.0, "dbIdSupersetResults": 1.0}
	if diff := cmp.Diff(want, redis); diff != "" {
		t.Errorf("redisInfo (-want +got):\n%s", diff)
	}
	vm := decode(VM{Name: "HadoopWRK-test-cluster-1", Index: 1, Status: "Running", IP: "127.1.0.3", CreatedAt: 1719452777733})
	if _, ok := vm["floatingIp"]; ok {
		t.Errorf("VM without a public address has floatingIp: %v", vm)
	}
	if _, ok := vm["ip"]; !ok {
		t.Errorf("VM has no ip: %v", vm)
	}

	if OptionalMillis(time.Time{}) != nil {
		t.Error("OptionalMillis(zero) is not nil")
	}
	at := time.Date(2024, 5, 22, 6, 24, 38, 0, time.UTC)
	if got := OptionalMillis(at); got == nil || *got != 1716359078000 || Millis(at) != 1716359078000 {
		t.Errorf("OptionalMillis(%v) = %v", at, got)
	}
}

// TestKeyOrder checks that every answer's keys come in the seed's order.
func TestKeyOrder(t *testing.T) {
	t.Parallel()
	full := Cluster{
		NameNodeURL: "u", ResourceManagerURL: "u", HueURL: "u", HMasterURL: "u", TrinoURL: "u", DruidURL: "u", SupersetURL: "u",
		MasterInfo: []NodeInfo{{}},
		Config:     ClusterConfig{ConfigText: "e30=", ConfigFileURL: "u"},
		UserTask: &UserTask{Type: "spark", TerminationPolicy: "never", FileURL: "u", HiveQuery: "q", DeployMode: "client",
			ExecOpts: "o", ExecParams: "p", LogBucketName: "b", LogURL: "u"},
		HiveDBInfo:      &HiveDBInfo{SubnetID: "s", Name: "n", Host: "h", Port: 3306},
		DataCatalogInfo: &DataCatalogInfo{MetastoreURI: "m", CatalogName: "c", VpcID: "v", VpcName: "v", SubnetID: "s", SubnetName: "s"},
		RedisInfo:       &RedisInfo{Name: "n", SubnetID: "s", PrimaryEndpoint: "p", ReadEndpoint: "r", Port: 6379},
	}
	tests := []struct {
		name string
		v    any
		path string
		want string
	}{
		{"status answer", ClusterStatus{}, "", "id name status"},
		{"cluster", full, "", "id name owner clusterType clusterVersion isHa isScalable status apiKeyStatus masterCnt workerCnt nodeCnt " +
			"vpcId subnetId securityGroupIds keypairName monitoring imageName nameNodeUrl resourceManagerUrl hueUrl hmasterUrl trinoUrl " +
			"druidUrl supersetUrl createdAt runningAt elapsedTime totalVmUptime masterInfo workerInfo adminInfo config userTask " +
			"hiveDbInfo dataCatalogInfo redisInfo"},
		{"masterInfo", full, "masterInfo.0", "flavorId flavorName volumeSize"},
		{"config", full, "config", "hdfsBlockSize hdfsReplication configText configFileUrl"},
		{"userTask", full, "userTask", "type terminationPolicy fileUrl hiveQuery deployMode execOpts execParams logBucketName logUrl"},
		{"hiveDbInfo", full, "hiveDbInfo", "objectId subnetId name host port dbName userId"},
		{"dataCatalogInfo", full, "dataCatalogInfo", "metastoreUri catalogId catalogName vpcId vpcName subnetId subnetName"},
		{"redisInfo", full, "redisInfo", "objectId name subnetId primaryEndpoint readEndpoint clusterEnabled port dbIdSupersetCelery dbIdSupersetResults"},
		{"list item", ClusterItem{}, "", "id name status owner clusterType clusterVersion isScalable apiKeyStatus masterCnt workerCnt nodeCnt createdAt runningAt elapsedTime"},
		{"VM", VM{FloatingIP: "f"}, "", "name instanceId index isMaster status flavorName ip floatingIp createdAt"},
		{"page", Page[VM]{}, "", "content pageable totalPages totalElements last size number sort numberOfElements first empty"},
		{"pageable", Page[VM]{}, "pageable", "pageNumber pageSize sort offset paged unpaged"},
		{"sort", Page[VM]{}, "sort", "empty sorted unsorted"},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := keyOrder(t, b, tc.path); !slices.Equal(got, strings.Fields(tc.want)) {
			t.Errorf("%s: keys %q\nwant %s", tc.name, got, tc.want)
		}
	}
}
