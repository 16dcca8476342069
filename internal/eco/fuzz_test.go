package eco

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/herdhq/herd/internal/apperr"
)

// FuzzParseCreate checks that ParseCreate never panics, refuses only with
// Invalid errors, returns only specs that keep the rules, and reads back
// the body createBody writes for a spec as the same spec.
func FuzzParseCreate(f *testing.F) {
	for n := 1; n <= 3; n++ {
		b, err := os.ReadFile(filepath.Join("testdata", "create-example-"+string(rune('0'+n))+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"name":}`, `{"workerCnt":3.5}`, `{"config":{"BlockSize":1,"blockSize":2}}`,
		`{"name":"a","clusterType":"hadoop","clusterVersion":"hde-1.0.0","isHa":true,"keypairName":"k",` +
			`"masterFlavorName":"f","masterVolumeSize":1,"workerCnt":1,"workerFlavorName":"f","workerVolumeSize":1,` +
			`"monitoring":false,"securityGroupIds":["s"],"vpcId":"v","subnetId":"s",` +
			`"config":{"hdfsReplication":1,"hdfsBlockSize":1,"configText":"eyJjb25maWd1cmF0aW9ucyI6W119",` +
			`"fileUrl":"file:///x"},"redisInfo":{"objectId":"r","dbIdSupersetCelery":15},"dataCatalogInfo":{"catalogId":"c"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseCreate(body)
		if err != nil {
			if apperr.KindOf(err) != apperr.Invalid || apperr.Message(err) == "" {
				t.Fatalf("error of kind %v: %v", apperr.KindOf(err), err)
			}
			return
		}
		checkSpec(t, s)
		again, err := ParseCreate(createBody(t, s))
		if err != nil {
			t.Fatalf("re-encoded spec refused: %v\nspec: %+v", err, s)
		}
		if diff := cmp.Diff(s, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
	})
}

// FuzzParseConfigurations checks the configuration JSON on its own, which
// FuzzParseCreate reaches only through Base64.
func FuzzParseConfigurations(f *testing.F) {
	for _, s := range []string{
		`{"configurations":[{"classification":"core-site","properties":{"io.file.buffer.size":"65536"}}]}`,
		`{"configurations":[{"classification":"user-env:ubuntu","properties":{"env":"export A=1\nexport B=2"}}]}`,
		`{"configurations":[{"classification":"hadoop-env","properties":{"HADOOP_HEAPSIZE":3001}},{"classification":"spark-defaults","properties":{"a":true}}]}`,
		`{"configurations":[{"classification":"yarn-site","properties":{}}]}`,
		`{"configurations":{}}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		confs, err := ParseConfigurations(data, "f")
		if err != nil {
			if apperr.KindOf(err) != apperr.Invalid || !strings.HasPrefix(apperr.Message(err), "f: ") {
				t.Fatalf("error: %v", err)
			}
			return
		}
		checkConfigurations(t, confs)
	})
}

func checkSpec(t *testing.T, s Spec) {
	t.Helper()
	switch {
	case !nameRE.MatchString(s.Name) || len(s.Name) > maxNameLen:
		t.Fatalf("name %q", s.Name)
	case !slices.Contains(clusterTypes, s.ClusterType):
		t.Fatalf("clusterType %q", s.ClusterType)
	case !versionRE.MatchString(s.ClusterVersion):
		t.Fatalf("clusterVersion %q", s.ClusterVersion)
	case s.IsHA && s.Master.Count != 3, !s.IsHA && s.Master.Count != 1:
		t.Fatalf("isHa %v with %d masters", s.IsHA, s.Master.Count)
	case s.HDFSReplication < 1 || s.HDFSReplication > maxReplication || s.Worker.Count < s.HDFSReplication:
		t.Fatalf("%d workers, replication %d", s.Worker.Count, s.HDFSReplication)
	case s.Master.VolumeGB < 1 || s.Worker.VolumeGB < 1 || s.HDFSBlockSizeMB < 1:
		t.Fatalf("sizes %+v %+v %d", s.Master, s.Worker, s.HDFSBlockSizeMB)
	case s.KeypairName == "" || s.Master.FlavorName == "" || s.Worker.FlavorName == "" || s.VpcID == "" || s.SubnetID == "":
		t.Fatalf("empty required name in %+v", s)
	case (len(s.SecurityGroupIDs) > 0) == (s.SecurityGroupName != ""):
		t.Fatalf("security groups %q and %q", s.SecurityGroupIDs, s.SecurityGroupName)
	case s.ConfigText != "" && s.ConfigFileURL != "", len(s.UserScript) > 0 && s.UserScriptFileURL != "":
		t.Fatalf("both forms of a field: %+v", s)
	case s.Admin != nil && s.Admin.UserID == "" && s.Admin.Password == "":
		t.Fatalf("empty admin")
	}
	checkConfigurations(t, s.Configurations)
	if task := s.Task; task != nil {
		switch {
		case !slices.Contains(taskTypes, task.Type), !slices.Contains(terminations, task.TerminationPolicy), !slices.Contains(deployModes, task.DeployMode):
			t.Fatalf("task %+v", task)
		case task.Type == "spark" && task.FileURL == "", task.Type == "hive" && (task.FileURL == "") == (task.HiveQuery == ""):
			t.Fatalf("task without its program: %+v", task)
		case task.LogBucketName != "" && !bucketRE.MatchString(task.LogBucketName):
			t.Fatalf("bucket %q", task.LogBucketName)
		}
	}
	if h := s.HiveDB; h != nil && (h.ObjectID == "" || h.DBName == "" || h.UserID == "" || h.Password == "") {
		t.Fatalf("hiveDbInfo %+v", h)
	}
	if c := s.DataCatalog; c != nil && c.CatalogID == "" {
		t.Fatalf("dataCatalogInfo %+v", c)
	}
	if r := s.Redis; r != nil && (r.ObjectID == "" || r.DBIDSupersetCelery < 0 || r.DBIDSupersetCelery > 15 || r.DBIDSupersetResults < 0 || r.DBIDSupersetResults > 15) {
		t.Fatalf("redisInfo %+v", r)
	}
	for _, u := range []string{s.ConfigFileURL, s.UserScriptFileURL} {
		if u != "" && checkURL(u) != "" {
			t.Fatalf("URL %q: %s", u, checkURL(u))
		}
	}
}

func checkConfigurations(t *testing.T, confs []Configuration) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range confs {
		user, userEnv := strings.CutPrefix(c.Classification, userEnvPrefix)
		switch {
		case seen[c.Classification]:
			t.Fatalf("classification %q twice", c.Classification)
		case userEnv && (!osUserRE.MatchString(user) || len(c.Properties) != 1 || !hasKey(c.Properties, "env")):
			t.Fatalf("user-env %+v", c)
		case !userEnv && !slices.Contains(classifications, c.Classification):
			t.Fatalf("classification %q", c.Classification)
		}
		seen[c.Classification] = true
		for k, v := range c.Properties {
			if k == "" || badXMLText(k) || badXMLText(v) {
				t.Fatalf("property %q=%q", k, v)
			}
		}
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// createBody writes s as a create body, in its canonical field names.
func createBody(t *testing.T, s Spec) []byte {
	t.Helper()
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	body := map[string]any{
		"name": s.Name, "clusterType": s.ClusterType, "clusterVersion": s.ClusterVersion, "isHa": s.IsHA,
		"keypairName": s.KeypairName, "masterFlavorName": s.Master.FlavorName, "masterVolumeSize": s.Master.VolumeGB,
		"workerCnt": s.Worker.Count, "workerFlavorName": s.Worker.FlavorName, "workerVolumeSize": s.Worker.VolumeGB,
		"monitoring": s.Monitoring, "vpcId": s.VpcID, "subnetId": s.SubnetID,
	}
	if len(s.SecurityGroupIDs) > 0 {
		body["securityGroupIds"] = s.SecurityGroupIDs
	} else {
		body["securityGroupName"] = s.SecurityGroupName
	}
	if s.Admin != nil {
		body["adminInfo"] = map[string]any{"userId": s.Admin.UserID, "userPw": enc([]byte(s.Admin.Password))}
	}
	config := map[string]any{
		"hdfsReplication": s.HDFSReplication, "hdfsBlockSize": s.HDFSBlockSizeMB,
		"configFileUrl": s.ConfigFileURL, "userScriptFileUrl": s.UserScriptFileURL,
	}
	if s.ConfigText != "" {
		config["configText"] = enc([]byte(s.ConfigText))
	}
	if len(s.UserScript) > 0 {
		config["userScript"] = enc(s.UserScript)
	}
	body["config"] = config
	if task := s.Task; task != nil {
		body["userTask"] = map[string]any{
			"type": task.Type, "terminationPolicy": task.TerminationPolicy, "fileUrl": task.FileURL,
			"hiveQuery": task.HiveQuery, "deployMode": task.DeployMode, "execOpts": task.ExecOpts,
			"execParams": task.ExecParams, "logBucketName": task.LogBucketName,
		}
	}
	if h := s.HiveDB; h != nil {
		body["hiveDbInfo"] = map[string]any{"objectId": h.ObjectID, "dbName": h.DBName, "userId": h.UserID, "userPw": enc([]byte(h.Password))}
	}
	if c := s.DataCatalog; c != nil {
		body["dataCatalogInfo"] = map[string]any{"catalogId": c.CatalogID}
	}
	if r := s.Redis; r != nil {
		body["redisInfo"] = map[string]any{"objectId": r.ObjectID, "dbIdSupersetCelery": r.DBIDSupersetCelery, "dbIdSupersetResults": r.DBIDSupersetResults}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
