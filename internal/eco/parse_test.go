package eco

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/herdhq/herd/internal/apperr"
)

const (
	objectURL  = "https://objectstorage.kr-central-2.kakaocloud.com/v1/project/bucket/path/file"
	helloWorld = "#!/bin/bash\n\nfunction print(){\n    msg=$1\n    echo \"${msg}\"\n}\n\nprint \"hello world!\"\n"
)

func readExample(t *testing.T, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "create-example-"+string(rune('0'+n))+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited returns example n with edit applied to its decoded form.
func edited(t *testing.T, n int, edit func(m map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readExample(t, n)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func subObject(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	if o == nil {
		o = map[string]any{}
		m[key] = o
	}
	return o
}

func base64Of(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseCreateExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want Spec
	}{
		{1, Spec{
			Name: "hive-job-cluster", ClusterType: "hadoop", ClusterVersion: "hde-2.0.1", KeypairName: "keypairname",
			Master:     NodeGroup{Count: 1, FlavorName: "m2a.xlarge", VolumeGB: 50},
			Worker:     NodeGroup{Count: 3, FlavorName: "m2a.xlarge", VolumeGB: 100},
			Monitoring: true, SecurityGroupName: "test-security-group1",
			VpcID: "3ebb3020-d416-f1a4-534c-d3ad0fa1bec0", SubnetID: "5c1632bf-a7da-fdbf-a594-e6a7bedb328c",
			Admin:           &Admin{UserID: "admin_user", Password: "Admin-Pass1!"},
			HDFSReplication: 3, HDFSBlockSizeMB: 128,
			ConfigText:     "{\n  \"configurations\": [\n    {\n      \"classification\": \"core-site\",\n      \"properties\": {\n        \"io.file.buffer.size\": \"65536\"\n      }\n    }\n  ]\n}\n",
			Configurations: []Configuration{{Classification: "core-site", Properties: map[string]string{"io.file.buffer.size": "65536"}}},
			Task: &UserTask{
				Type: "hive", TerminationPolicy: "never", DeployMode: "client", LogBucketName: "user-bucket",
				HiveQuery: "create table if not exists t1 (col1 string); insert into table t1 values ('a'), ('b'), ('c');",
				ExecOpts:  "--hiveconf hive.tez.container.size=1024 --hiveconf",
			},
			DataCatalog: &DataCatalog{CatalogID: "e1ebae48-daba-a4c5-56da-fbb2b684ae07"},
		}},
		{2, Spec{
			Name: "spark-job-cluster", ClusterType: "hadoop", ClusterVersion: "hde-2.0.1", IsHA: true, KeypairName: "keypairname",
			Master:           NodeGroup{Count: 3, FlavorName: "m2a.xlarge", VolumeGB: 50},
			Worker:           NodeGroup{Count: 5, FlavorName: "m2a.xlarge", VolumeGB: 100},
			Monitoring:       true,
			SecurityGroupIDs: []string{"56aa3028-b163-b114-baac-gg1dtfa1bec1", "76163abf-j11a-fbbd-a123-d1a4bedb123c"},
			VpcID:            "3ebb3020-d416-f1a4-534c-d3ad0fa1bec0", SubnetID: "5c1632bf-a7da-fdbf-a594-e6a7bedb328c",
			HDFSReplication: 3, HDFSBlockSizeMB: 128, UserScriptFileURL: objectURL,
			Task: &UserTask{
				Type: "spark", TerminationPolicy: "onSuccess", FileURL: objectURL, DeployMode: "cluster",
				ExecOpts: "--class org.apache.spark.examples.SparkPi --master yarn", LogBucketName: "user-bucket",
			},
		}},
		{3, Spec{
			Name: "test-cluster", ClusterType: "hadoop", ClusterVersion: "hde-2.0.1", KeypairName: "keypairname",
			Master:     NodeGroup{Count: 1, FlavorName: "m2a.xlarge", VolumeGB: 50},
			Worker:     NodeGroup{Count: 3, FlavorName: "m2a.xlarge", VolumeGB: 100},
			Monitoring: true, SecurityGroupName: "security-group-test",
			VpcID: "3ebb3020-d416-f1a4-534c-d3ad0fa1bec0", SubnetID: "5c1632bf-a7da-fdbf-a594-e6a7bedb328c",
			HDFSReplication: 3, HDFSBlockSizeMB: 128, ConfigFileURL: objectURL, UserScript: []byte(helloWorld),
			HiveDB: &HiveDB{ObjectID: "cfdbd7cd-f0ce-bbfb-de5b-e73bdbbcb0cf", DBName: "meta_db", UserID: "mysql_user", Password: "mysql-Pass1"},
		}},
	}
	for _, tc := range tests {
		t.Run("example"+string(rune('0'+tc.n)), func(t *testing.T) {
			t.Parallel()
			got, err := ParseCreate(readExample(t, tc.n))
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseCreateAccepts edits an example into another valid body and
// checks what it becomes.
func TestParseCreateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		edit func(m map[string]any)
		got  func(s Spec) any
		want any
	}{
		{"alias config.fileUrl", 3, func(m map[string]any) {
			c := subObject(m, "config")
			c["fileUrl"] = c["configFileUrl"]
			delete(c, "configFileUrl")
		}, func(s Spec) any { return s.ConfigFileURL }, objectURL},
		{"alias config.BlockSize", 1, func(m map[string]any) {
			c := subObject(m, "config")
			delete(c, "hdfsBlockSize")
			c["BlockSize"] = 256
		}, func(s Spec) any { return s.HDFSBlockSizeMB }, 256},
		{"alias config.blockSize", 1, func(m map[string]any) {
			c := subObject(m, "config")
			delete(c, "hdfsBlockSize")
			c["blockSize"] = 64
		}, func(s Spec) any { return s.HDFSBlockSizeMB }, 64},
		{"alias userScriptfileUrl", 2, func(m map[string]any) {
			c := subObject(m, "config")
			c["userScriptfileUrl"] = c["userScriptFileUrl"]
			delete(c, "userScriptFileUrl")
		}, func(s Spec) any { return s.UserScriptFileURL }, objectURL},
		{"alias dataCatalogInfo", 1, func(m map[string]any) {
			m["dataCatalogInfo"] = m["dataCatalog"]
			delete(m, "dataCatalog")
		}, func(s Spec) any { return s.DataCatalog.CatalogID }, "e1ebae48-daba-a4c5-56da-fbb2b684ae07"},
		{"unknown fields ignored", 1, func(m map[string]any) {
			m["tags"] = []string{"x"}
			subObject(m, "config")["extra"] = true
		}, func(s Spec) any { return s.Name }, "hive-job-cluster"},
		{"integral float", 1, func(m map[string]any) { m["workerCnt"] = json.Number("4.0") },
			func(s Spec) any { return s.Worker.Count }, 4},
		{"exponent", 1, func(m map[string]any) { m["workerVolumeSize"] = json.Number("1e3") },
			func(s Spec) any { return s.Worker.VolumeGB }, 1000},
		{"one-letter name", 1, func(m map[string]any) { m["name"] = "a" },
			func(s Spec) any { return s.Name }, "a"},
		{"63-character name", 1, func(m map[string]any) { m["name"] = "A" + strings.Repeat("b-1", 20) + "z9" },
			func(s Spec) any { return len(s.Name) }, 63},
		{"clusterType dataflow", 1, func(m map[string]any) { m["clusterType"] = "dataflow" },
			func(s Spec) any { return s.ClusterType }, "dataflow"},
		{"clusterType custom", 1, func(m map[string]any) { m["clusterType"] = "custom" },
			func(s Spec) any { return s.ClusterType }, "custom"},
		{"clusterVersion many digits", 1, func(m map[string]any) { m["clusterVersion"] = "hde-10.20.300" },
			func(s Spec) any { return s.ClusterVersion }, "hde-10.20.300"},
		{"workerCnt equal to replication", 1, func(m map[string]any) { m["workerCnt"] = 3 },
			func(s Spec) any { return s.Worker.Count }, 3},
		{"replication 1, one worker", 1, func(m map[string]any) {
			m["workerCnt"] = 1
			subObject(m, "config")["hdfsReplication"] = 1
		}, func(s Spec) any { return s.HDFSReplication }, 1},
		{"empty securityGroupIds with a name", 1, func(m map[string]any) { m["securityGroupIds"] = []string{} },
			func(s Spec) any { return []any{s.SecurityGroupName, len(s.SecurityGroupIDs)} }, []any{"test-security-group1", 0}},
		{"null and empty optionals", 2, func(m map[string]any) {
			m["securityGroupName"] = ""
			m["adminInfo"] = nil
			m["hiveDbInfo"] = nil
			subObject(m, "config")["configText"] = ""
		}, func(s Spec) any { return []bool{s.Admin == nil, s.HiveDB == nil, s.Configurations == nil} }, []bool{true, true, true}},
		{"adminInfo without either field", 1, func(m map[string]any) { m["adminInfo"] = map[string]any{} },
			func(s Spec) any { return s.Admin }, (*Admin)(nil)},
		{"adminInfo userId only", 1, func(m map[string]any) { m["adminInfo"] = map[string]any{"userId": "hue"} },
			func(s Spec) any { return *s.Admin }, Admin{UserID: "hue"}},
		{"Base64 wrapped and unpadded", 1, func(m map[string]any) {
			enc := base64Of(`{"configurations":[{"classification":"hdfs-site","properties":{"dfs.replication":2}}]}`)
			wrapped := ""
			for len(enc) > 20 {
				wrapped += enc[:20] + "\n"
				enc = enc[20:]
			}
			wrapped += strings.TrimRight(enc, "=")
			subObject(m, "config")["configText"] = "  \r\n" + wrapped + "\n\t"
		}, func(s Spec) any { return s.Configurations }, []Configuration{{Classification: "hdfs-site", Properties: map[string]string{"dfs.replication": "2"}}}},
		{"Base64 from certutil", 3, func(m map[string]any) {
			subObject(m, "hiveDbInfo")["userPw"] = "-----BEGIN CERTIFICATE-----\r\ncHcgDQo=\r\n-----END CERTIFICATE-----\r\n"
		}, func(s Spec) any { return s.HiveDB.Password }, "pw "},
		{"password keeps inner spaces", 1, func(m map[string]any) { subObject(m, "adminInfo")["userPw"] = base64Of(" a b \n\n") },
			func(s Spec) any { return s.Admin.Password }, " a b "},
		{"file URLs", 3, func(m map[string]any) { subObject(m, "config")["configFileUrl"] = "file:///srv/eco/config.json" },
			func(s Spec) any { return s.ConfigFileURL }, "file:///srv/eco/config.json"},
		{"file URL on localhost", 3, func(m map[string]any) { subObject(m, "config")["configFileUrl"] = "file://localhost/srv/c.json" },
			func(s Spec) any { return s.ConfigFileURL }, "file://localhost/srv/c.json"},
		{"http URL", 2, func(m map[string]any) { subObject(m, "userTask")["fileUrl"] = "http://127.0.0.1:8080/jobs/pi.jar" },
			func(s Spec) any { return s.Task.FileURL }, "http://127.0.0.1:8080/jobs/pi.jar"},
		{"spark deployMode defaults to client", 2, func(m map[string]any) { delete(subObject(m, "userTask"), "deployMode") },
			func(s Spec) any { return s.Task.DeployMode }, "client"},
		{"hive task from a file", 1, func(m map[string]any) {
			u := subObject(m, "userTask")
			delete(u, "hiveQuery")
			u["fileUrl"] = objectURL
		}, func(s Spec) any { return s.Task.FileURL }, objectURL},
		{"no logBucketName", 1, func(m map[string]any) { delete(subObject(m, "userTask"), "logBucketName") },
			func(s Spec) any { return s.Task.LogBucketName }, ""},
		{"bucket with dots", 1, func(m map[string]any) { subObject(m, "userTask")["logBucketName"] = "logs.team-1" },
			func(s Spec) any { return s.Task.LogBucketName }, "logs.team-1"},
		{"redis defaults", 1, func(m map[string]any) { m["redisInfo"] = map[string]any{"objectId": "r-1"} },
			func(s Spec) any { return *s.Redis }, Redis{ObjectID: "r-1", DBIDSupersetCelery: 0, DBIDSupersetResults: 1}},
		{"redis bounds", 1, func(m map[string]any) {
			m["redisInfo"] = map[string]any{"objectId": "r-1", "dbIdSupersetCelery": 15, "dbIdSupersetResults": 0}
		}, func(s Spec) any { return *s.Redis }, Redis{ObjectID: "r-1", DBIDSupersetCelery: 15, DBIDSupersetResults: 0}},
		{"keys in any case", 1, func(m map[string]any) {
			m["WORKERCNT"] = m["workerCnt"]
			delete(m, "workerCnt")
		}, func(s Spec) any { return s.Worker.Count }, 3},
		{"user-env and numbers", 1, func(m map[string]any) {
			subObject(m, "config")["configText"] = base64Of(`{"configurations":[
				{"classification":"user-env:ubuntu","properties":{"env":"export JAVA_HOME=${JAVA_HOME:-/usr/lib/jdk}\nexport CUSTOM_HOME=/etc/custom"}},
				{"classification":"hadoop-env","properties":{"HADOOP_HEAPSIZE":3001}},
				{"classification":"spark-defaults","properties":{"spark.driver.memory":"4000M","spark.network.timeout":"800s","spark.dynamicAllocation.enabled":true}},
				{"classification":"spark-env","properties":{"SPARK_WORKER_CORES":"2"}}]}`)
		}, func(s Spec) any { return s.Configurations }, []Configuration{
			{Classification: "user-env:ubuntu", Properties: map[string]string{"env": "export JAVA_HOME=${JAVA_HOME:-/usr/lib/jdk}\nexport CUSTOM_HOME=/etc/custom"}},
			{Classification: "hadoop-env", Properties: map[string]string{"HADOOP_HEAPSIZE": "3001"}},
			{Classification: "spark-defaults", Properties: map[string]string{"spark.driver.memory": "4000M", "spark.network.timeout": "800s", "spark.dynamicAllocation.enabled": "true"}},
			{Classification: "spark-env", Properties: map[string]string{"SPARK_WORKER_CORES": "2"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseCreate(edited(t, tc.n, tc.edit))
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			checkEqual(t, tc.got(s), tc.want)
		})
	}
}

// checkEqual compares got with want, nil and empty lists and maps alike.
func checkEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestParseCreateRejects checks that each broken body is Invalid with a
// message holding every wanted part; a part starting with "=" is the whole
// message.
func TestParseCreateRejects(t *testing.T) {
	t.Parallel()
	raw := func(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	ed := func(n int, edit func(m map[string]any)) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			t.Helper()
			return edited(t, n, edit)
		}
	}
	set := func(n int, key string, v any) func(*testing.T) []byte {
		return ed(n, func(m map[string]any) {
			if outer, inner, ok := strings.Cut(key, "."); ok {
				subObject(m, outer)[inner] = v
				return
			}
			m[key] = v
		})
	}
	configText := func(json string) func(*testing.T) []byte { return set(1, "config.configText", base64Of(json)) }
	tests := []struct {
		name string
		body func(*testing.T) []byte
		want []string
	}{
		// JSON itself.
		{"empty body", raw(" \n"), []string{"request body is empty"}},
		{"malformed", raw(`{"name":}`), []string{"request body is malformed JSON at line 1, column 9 (byte 9): invalid character '}'"}},
		{"malformed on line 3", raw("{\n  \"name\": \"a\",\n  \"workerCnt\": 3x\n}"), []string{"line 3, column 17"}},
		{"truncated", raw(`{"name":"a"`), []string{"malformed JSON", "unexpected end of JSON input"}},
		{"trailing data", raw(`{} {}`), []string{"malformed JSON", "after top-level value"}},
		{"array", raw(`[]`), []string{"request body must be a JSON object, not an array"}},
		{"null", raw(`null`), []string{"request body must be a JSON object, not null"}},
		{"string", raw(`"x"`), []string{"request body must be a JSON object, not a string"}},

		// Required fields.
		{"nothing", raw(`{}`), []string{"=missing required fields name, clusterType, clusterVersion, isHa, keypairName, masterFlavorName, " +
			"masterVolumeSize, workerCnt, workerFlavorName, workerVolumeSize, monitoring, securityGroupIds or securityGroupName, " +
			"vpcId, subnetId, config.hdfsReplication, config.hdfsBlockSize"}},
		{"null and empty are missing", ed(1, func(m map[string]any) {
			m["name"] = nil
			m["vpcId"] = ""
			delete(subObject(m, "config"), "hdfsBlockSize")
		}), []string{"missing required fields name, vpcId, config.hdfsBlockSize"}},
		{"missing security group", ed(1, func(m map[string]any) { delete(m, "securityGroupName") }),
			[]string{"missing required field securityGroupIds or securityGroupName"}},

		// Types.
		{"workerCnt string", set(1, "workerCnt", "3"), []string{"workerCnt must be an integer, not a string"}},
		{"workerCnt fraction", set(1, "workerCnt", json.Number("3.5")), []string{"workerCnt must be an integer, not 3.5"}},
		{"workerCnt huge", set(1, "workerCnt", json.Number("3000000000")), []string{"workerCnt (3000000000) is out of range"}},
		{"workerCnt bool", set(1, "workerCnt", true), []string{"workerCnt must be an integer, not a boolean"}},
		{"isHa string", set(1, "isHa", "false"), []string{"isHa must be true or false, not a string"}},
		{"monitoring number", set(1, "monitoring", 1), []string{"monitoring must be true or false, not 1"}},
		{"name number", set(1, "name", 5), []string{"name must be a string, not 5"}},
		{"config string", set(1, "config", "x"), []string{"=config must be an object, not a string"}},
		{"securityGroupIds string", ed(1, func(m map[string]any) {
			delete(m, "securityGroupName")
			m["securityGroupIds"] = "sg-1"
		}), []string{"securityGroupIds must be an array of strings, not a string"}},
		{"securityGroupIds number item", set(2, "securityGroupIds", []any{"a", 1}), []string{"securityGroupIds[1] must be a string, not 1"}},
		{"securityGroupIds twice", set(2, "securityGroupIds", []string{"a", "a"}), []string{`securityGroupIds lists "a" twice`}},
		{"blockSize alias type", ed(1, func(m map[string]any) {
			c := subObject(m, "config")
			delete(c, "hdfsBlockSize")
			c["BlockSize"] = "128"
		}), []string{"config.BlockSize must be an integer, not a string"}},
		{"userTask array", set(1, "userTask", []int{}), []string{"userTask must be an object, not an array"}},

		// Aliases sent twice.
		{"fileUrl and configFileUrl", set(3, "config.fileUrl", objectURL),
			[]string{"config.configFileUrl and config.fileUrl are the same field: send one"}},
		{"dataCatalog and dataCatalogInfo", set(1, "dataCatalogInfo", map[string]any{"catalogId": "x"}),
			[]string{"dataCatalog and dataCatalogInfo are the same field: send one"}},
		{"two spellings of a key", set(1, "Name", "other"), []string{"Name and name are the same field: send one"}},

		// Values.
		{"name starts with a digit", set(1, "name", "1cluster"), []string{`name "1cluster" must be 1-63 letters, digits and '-', start with a letter`}},
		{"name starts with a hyphen", set(1, "name", "-a"), []string{`name "-a" must be`}},
		{"name ends with a hyphen", set(1, "name", "ab-"), []string{`name "ab-" must be`}},
		{"name with underscore", set(1, "name", "a_b"), []string{`name "a_b" must be`}},
		{"name too long", set(1, "name", "a"+strings.Repeat("b", 63)), []string{"must be 1-63 letters"}},
		{"clusterType", set(1, "clusterType", "spark"), []string{`clusterType "spark" must be one of hadoop, hbase, trino, dataflow, custom`}},
		{"clusterType case", set(1, "clusterType", "Hadoop"), []string{`clusterType "Hadoop" must be one of`}},
		{"clusterVersion", set(1, "clusterVersion", "2.0.1"), []string{`clusterVersion "2.0.1" must look like hde-2.0.1`}},
		{"clusterVersion short", set(1, "clusterVersion", "hde-2.0"), []string{`clusterVersion "hde-2.0" must look like`}},
		{"clusterVersion suffix", set(1, "clusterVersion", "hde-2.0.1-rc1"), []string{`clusterVersion "hde-2.0.1-rc1" must look like`}},
		{"flavor with newline", set(1, "masterFlavorName", "m2a\n"), []string{`masterFlavorName "m2a\n" must be at most 255 characters without control characters`}},
		{"masterVolumeSize 0", set(1, "masterVolumeSize", 0), []string{"masterVolumeSize (0) must be at least 1"}},
		{"workerVolumeSize negative", set(1, "workerVolumeSize", -5), []string{"workerVolumeSize (-5) must be at least 1"}},
		{"workerCnt 0", set(1, "workerCnt", 0), []string{"workerCnt (0) must be at least 1"}},
		{"workerCnt below replication", set(1, "workerCnt", 2), []string{"=workerCnt (2) must be at least config.hdfsReplication (3)"}},
		{"replication 0", set(1, "config.hdfsReplication", 0), []string{"config.hdfsReplication (0) must be at least 1"}},
		{"replication over max", ed(1, func(m map[string]any) {
			m["workerCnt"] = 600
			subObject(m, "config")["hdfsReplication"] = 513
		}), []string{"config.hdfsReplication (513) must be at most 512"}},
		{"blockSize 0", set(1, "config.hdfsBlockSize", 0), []string{"config.hdfsBlockSize (0) must be at least 1"}},

		// Security groups.
		{"both security group fields", set(2, "securityGroupName", "sg"), []string{"send securityGroupIds (to reuse groups) or securityGroupName (to create one), not both"}},
		{"empty securityGroupIds alone", ed(1, func(m map[string]any) {
			delete(m, "securityGroupName")
			m["securityGroupIds"] = []string{}
		}), []string{"securityGroupIds must not be empty"}},

		// Base64.
		{"configText not Base64", set(1, "config.configText", "!!!"), []string{"config.configText is not valid Base64"}},
		{"configText URL alphabet", set(1, "config.configText", "ab-_"), []string{"config.configText is not valid Base64"}},
		{"configText too much padding", set(1, "config.configText", "YWJj="), []string{"config.configText is not valid Base64"}},
		{"userScript not Base64", set(3, "config.userScript", "a"), []string{"config.userScript is not valid Base64"}},
		{"userScript empty", set(3, "config.userScript", " \n"), []string{"config.userScript is empty once decoded"}},
		{"adminInfo.userPw not Base64", set(1, "adminInfo.userPw", "pass word!"), []string{"adminInfo.userPw is not valid Base64"}},
		{"adminInfo.userPw newline only", set(1, "adminInfo.userPw", base64Of("\n")), []string{"adminInfo.userPw is empty once decoded"}},
		{"adminInfo.userPw control", set(1, "adminInfo.userPw", base64Of("a\x00b")), []string{"adminInfo.userPw must decode to UTF-8 text without control characters"}},
		{"hiveDbInfo.userPw not Base64", set(3, "hiveDbInfo.userPw", "$$"), []string{"hiveDbInfo.userPw is not valid Base64"}},
		{"adminInfo.userId with space", set(1, "adminInfo.userId", "a b"), []string{`adminInfo.userId "a b" must not contain white space`}},

		// configText content.
		{"configText not JSON", configText(`configurations: []`), []string{"config.configText: the configuration is malformed JSON at line 1, column 1"}},
		{"configText array", configText(`[]`), []string{"config.configText: the configuration must be a JSON object, not an array"}},
		{"configText without configurations", configText(`{"Configurations2":[]}`), []string{"config.configText: missing required field configurations"}},
		{"configurations not array", configText(`{"configurations":{}}`), []string{"config.configText: configurations must be an array, not an object"}},
		{"configuration not object", configText(`{"configurations":["core-site"]}`), []string{"config.configText: configurations[0] must be an object, not a string"}},
		{"unknown classification", configText(`{"configurations":[{"classification":"yarn-site","properties":{}}]}`),
			[]string{`config.configText: configurations[0]: unknown classification "yarn-site" (allowed: core-site, hdfs-site, hadoop-env, spark-defaults, spark-env, user-env:<os user>)`}},
		{"hive-site", configText(`{"configurations":[{"classification":"core-site","properties":{}},{"classification":"hive-site","properties":{}}]}`),
			[]string{`configurations[1]: unknown classification "hive-site"`}},
		{"classification missing", configText(`{"configurations":[{"properties":{}}]}`),
			[]string{"config.configText: missing required field configurations[0].classification"}},
		{"properties missing", configText(`{"configurations":[{"classification":"core-site"}]}`),
			[]string{"config.configText: missing required field configurations[0].properties"}},
		{"properties array", configText(`{"configurations":[{"classification":"core-site","properties":[]}]}`),
			[]string{"config.configText: configurations[0].properties must be an object, not an array"}},
		{"classification twice", configText(`{"configurations":[{"classification":"core-site","properties":{}},{"classification":"core-site","properties":{}}]}`),
			[]string{`configurations[1]: classification "core-site" is given again (first in configurations[0])`}},
		{"nested configurations", configText(`{"configurations":[{"classification":"hadoop-env","configurations":[],"properties":{}}]}`),
			[]string{"configurations[0]: nested configurations are not supported"}},
		{"user-env bad user", configText(`{"configurations":[{"classification":"user-env:Ubuntu","properties":{"env":"x"}}]}`),
			[]string{`classification "user-env:Ubuntu" must name an OS user`}},
		{"user-env no user", configText(`{"configurations":[{"classification":"user-env:","properties":{"env":"x"}}]}`),
			[]string{`classification "user-env:" must name an OS user`}},
		{"user-env extra key", configText(`{"configurations":[{"classification":"user-env:ubuntu","properties":{"env":"x","PATH":"/bin"}}]}`),
			[]string{`configurations[0].properties of user-env:ubuntu must have exactly one key, env, not "PATH", "env"`}},
		{"user-env no key", configText(`{"configurations":[{"classification":"user-env:ubuntu","properties":{}}]}`),
			[]string{"must have exactly one key, env, not none"}},
		{"property null", configText(`{"configurations":[{"classification":"core-site","properties":{"a":null}}]}`),
			[]string{`configurations[0].properties["a"] must be a string, number or boolean, not null`}},
		{"property object", configText(`{"configurations":[{"classification":"core-site","properties":{"a":{"b":1}}}]}`),
			[]string{`configurations[0].properties["a"] must be a string, number or boolean, not an object`}},
		{"property key with space", configText(`{"configurations":[{"classification":"core-site","properties":{"a b":"1"}}]}`),
			[]string{`key "a b" must not contain white space`}},
		{"property empty key", configText(`{"configurations":[{"classification":"hdfs-site","properties":{"":"1"}}]}`),
			[]string{"configurations[0].properties has an empty key"}},
		{"property control character", configText(`{"configurations":[{"classification":"core-site","properties":{"a":"x\u0001"}}]}`),
			[]string{`properties["a"] has characters XML cannot carry`}},
		{"hadoop-env key", configText(`{"configurations":[{"classification":"hadoop-env","properties":{"HADOOP-HEAPSIZE":"1"}}]}`),
			[]string{`"HADOOP-HEAPSIZE" is not a shell variable name, which hadoop-env keys must be`}},
		{"configText and configFileUrl", set(1, "config.configFileUrl", objectURL), []string{"send config.configText or config.configFileUrl, not both"}},
		{"userScript and userScriptFileUrl", set(3, "config.userScriptFileUrl", objectURL), []string{"send config.userScript or config.userScriptFileUrl, not both"}},

		// URLs.
		{"s3 URL", set(3, "config.configFileUrl", "s3://bucket/c.json"), []string{`config.configFileUrl "s3://bucket/c.json" must be an http, https or file URL`}},
		{"relative URL", set(3, "config.configFileUrl", "bucket/c.json"), []string{"must be an http, https or file URL"}},
		{"seed placeholder URL", set(3, "config.configFileUrl", "https://objectstorage.{regionName}"), []string{`config.configFileUrl "https://objectstorage.{regionName}" is not a URL`}},
		{"URL without host", set(2, "config.userScriptFileUrl", "https:///x"), []string{"must be an absolute URL with a host"}},
		{"URL with space", set(2, "userTask.fileUrl", "https://h/a b.jar"), []string{`userTask.fileUrl "https://h/a b.jar" must not contain white space`}},
		{"file URL with host", set(3, "config.configFileUrl", "file://server/c.json"), []string{"must be a file URL with an absolute path"}},
		{"file URL relative", set(3, "config.configFileUrl", "file:c.json"), []string{"must be a file URL with an absolute path"}},
		{"alias URL", ed(3, func(m map[string]any) {
			c := subObject(m, "config")
			delete(c, "configFileUrl")
			c["fileUrl"] = "ftp://h/c.json"
		}), []string{`config.fileUrl "ftp://h/c.json" must be an http, https or file URL`}},

		// userTask.
		{"userTask empty", set(1, "userTask", map[string]any{}), []string{"missing required fields userTask.type, userTask.terminationPolicy"}},
		{"userTask type", set(1, "userTask.type", "pig"), []string{`userTask.type "pig" must be one of hive, spark`}},
		{"userTask terminationPolicy", set(1, "userTask.terminationPolicy", "onFailure"), []string{`userTask.terminationPolicy "onFailure" must be one of never, onSuccess, always`}},
		{"userTask deployMode", set(2, "userTask.deployMode", "yarn"), []string{`userTask.deployMode "yarn" must be one of cluster, client`}},
		{"spark without fileUrl", ed(2, func(m map[string]any) { delete(subObject(m, "userTask"), "fileUrl") }),
			[]string{"missing required field userTask.fileUrl (the JAR of a spark task)"}},
		{"hive without query", ed(1, func(m map[string]any) { delete(subObject(m, "userTask"), "hiveQuery") }),
			[]string{"missing required field userTask.hiveQuery or userTask.fileUrl"}},
		{"hive with query and file", set(1, "userTask.fileUrl", objectURL), []string{"a hive userTask takes hiveQuery or fileUrl, not both"}},
		{"logBucketName uppercase", set(1, "userTask.logBucketName", "User_Bucket"), []string{`userTask.logBucketName "User_Bucket" must be a bucket name`}},
		{"logBucketName short", set(1, "userTask.logBucketName", "ab"), []string{`userTask.logBucketName "ab" must be a bucket name`}},
		{"logBucketName trailing dot", set(1, "userTask.logBucketName", "abc."), []string{`userTask.logBucketName "abc." must be a bucket name`}},

		// hiveDbInfo, dataCatalogInfo, redisInfo.
		{"hiveDbInfo empty", set(3, "hiveDbInfo", map[string]any{}),
			[]string{"missing required fields hiveDbInfo.objectId, hiveDbInfo.dbName, hiveDbInfo.userId, hiveDbInfo.userPw"}},
		{"hiveDbInfo dbName", set(3, "hiveDbInfo.dbName", "meta-db"), []string{`hiveDbInfo.dbName "meta-db" must be a MySQL name`}},
		{"hiveDbInfo userId", set(3, "hiveDbInfo.userId", strings.Repeat("u", 33)), []string{"hiveDbInfo.userId", "must be a MySQL user name"}},
		{"dataCatalog empty", set(1, "dataCatalog", map[string]any{}), []string{"missing required field dataCatalog.catalogId"}},
		{"redisInfo empty", set(1, "redisInfo", map[string]any{}), []string{"missing required field redisInfo.objectId"}},
		{"redis db 16", set(1, "redisInfo", map[string]any{"objectId": "r", "dbIdSupersetCelery": 16}),
			[]string{"redisInfo.dbIdSupersetCelery (16) must be between 0 and 15"}},
		{"redis db -1", set(1, "redisInfo", map[string]any{"objectId": "r", "dbIdSupersetResults": -1}),
			[]string{"redisInfo.dbIdSupersetResults (-1) must be between 0 and 15"}},
		{"redis db string", set(1, "redisInfo", map[string]any{"objectId": "r", "dbIdSupersetResults": "1"}),
			[]string{"redisInfo.dbIdSupersetResults must be an integer, not a string"}},

		// Several problems at once: missing first, then the others.
		{"several", ed(1, func(m map[string]any) {
			delete(m, "name")
			m["workerCnt"] = "three"
			m["clusterType"] = "x"
			subObject(m, "config")["configText"] = "%%%"
		}), []string{`=missing required field name; clusterType "x" must be one of hadoop, hbase, trino, dataflow, custom; workerCnt must be an integer, not a string; config.configText is not valid Base64`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCreate(tc.body(t))
			if err == nil {
				t.Fatal("ParseCreate accepted the body")
			}
			if k := apperr.KindOf(err); k != apperr.Invalid {
				t.Fatalf("kind %v, want invalid: %v", k, err)
			}
			for _, w := range tc.want {
				if exact, ok := strings.CutPrefix(w, "="); ok && err.Error() != exact {
					t.Errorf("error %q\nwant %q", err, exact)
				} else if !ok && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseCreateExampleConfigs(t *testing.T) {
	t.Parallel()
	s1, err := ParseCreate(readExample(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := s1.Configurations[0]; got.Classification != "core-site" || got.Properties["io.file.buffer.size"] != "65536" {
		t.Errorf("example 1 configText holds %+v, want core-site io.file.buffer.size=65536", got)
	}
	s3, err := ParseCreate(readExample(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s3.UserScript), `print "hello world!"`) {
		t.Errorf("example 3 userScript is %q, want the hello-world script", s3.UserScript)
	}
}

func TestParseConfigurations(t *testing.T) {
	t.Parallel()
	got, err := ParseConfigurations([]byte(`{"configurations":[
		{"Classification":"core-site","Properties":{"fs.s3a.endpoint":"https://objectstorage.kr-central-2.kakaocloud.com","io.file.buffer.size":65536,"x.flag":false}},
		{"classification":"user-env:hadoop_user-1","properties":{"env":"export A=1"}}],"comment":"extra keys are ignored"}`), "config.configFileUrl")
	if err != nil {
		t.Fatal(err)
	}
	want := []Configuration{
		{Classification: "core-site", Properties: map[string]string{"fs.s3a.endpoint": "https://objectstorage.kr-central-2.kakaocloud.com", "io.file.buffer.size": "65536", "x.flag": "false"}},
		{Classification: "user-env:hadoop_user-1", Properties: map[string]string{"env": "export A=1"}},
	}
	checkEqual(t, got, want)

	empty, err := ParseConfigurations([]byte(`{"configurations":[]}`), "f")
	if err != nil || len(empty) != 0 {
		t.Errorf("empty list: %v, %v", empty, err)
	}

	_, err = ParseConfigurations([]byte(`{"configurations":[{"classification":"yarn-site","properties":{}}]}`), "config.configFileUrl")
	if apperr.KindOf(err) != apperr.Invalid || !strings.HasPrefix(apperr.Message(err), `config.configFileUrl: configurations[0]: unknown classification "yarn-site"`) {
		t.Errorf("yarn-site: %v", err)
	}
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
		msg  string
	}{
		{in: `{"scaleCnt": 3}`, want: 3},
		{in: "\n{\n\"scaleCnt\": 5\n}\n", want: 5},
		{in: `{}`, msg: "missing required field scaleCnt"},
		{in: `{"scaleCnt": 0}`, msg: "scaleCnt (0) must be at least 1"},
		{in: `{"scaleCnt": "3"}`, msg: "scaleCnt must be an integer, not a string"},
		{in: `“scaleCnt”: 3`, msg: "malformed JSON at line 1, column 1"}, // the seed's curly quotes
	}
	for _, tc := range tests {
		got, err := ParseScale([]byte(tc.in))
		switch {
		case tc.msg == "" && (err != nil || got != tc.want):
			t.Errorf("ParseScale(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.msg != "" && (apperr.KindOf(err) != apperr.Invalid || !strings.Contains(apperr.Message(err), tc.msg)):
			t.Errorf("ParseScale(%q) error %v; want %q", tc.in, err, tc.msg)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"aGVsbG8K", "hello\n", true},
		{"aGVsbG8", "hell" + "o", true}, // unpadded
		{"aGVsbA==", "hell", true},
		{"aGVsbA=", "hell", true},
		{"aGVsbA", "hell", true},
		{"aGVs\nbG8K\n", "hello\n", true},
		{"  aG Vs\tbG8K ", "hello\n", true},
		{"-----BEGIN CERTIFICATE-----\r\naGVsbG8K\r\n-----END CERTIFICATE-----\r\n", "hello\n", true},
		{"aGVsbA===", "", false},
		{"aGVsbG8K=", "", false},
		{"aGV=sbG8K", "", false},
		{"a", "", false},
		{"aGVsbG8_", "", false},
		{"", "", true},
	}
	for _, tc := range tests {
		got, ok := decodeBase64(tc.in)
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseCreateManyKeys parses a body padded with 100,000 unknown keys:
// each object's keys are sorted once, not once per field looked up.
func TestParseCreateManyKeys(t *testing.T) {
	t.Parallel()
	body := edited(t, 1, func(m map[string]any) {
		for i := range 100_000 {
			m["extra"+strconv.Itoa(i)] = i
		}
	})
	start := time.Now()
	if _, err := ParseCreate(body); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes in %v", len(body), time.Since(start))
}
