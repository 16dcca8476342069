package eco

import (
	"strings"
	"testing"
)

func TestTaskScript(t *testing.T) {
	tests := []struct {
		name     string
		task     UserTask
		file     string
		want     []string
		wantNone []string
	}{
		{
			name: "spark on yarn runs on the standalone master",
			task: UserTask{Type: "spark", DeployMode: "cluster", ExecOpts: "--class org.apache.spark.examples.SparkPi --master yarn", ExecParams: "10"},
			file: "/jobs/pi.jar",
			want: []string{"'/spark/bin/spark-submit' '--deploy-mode' 'cluster' '--master' 'spark://127.1.0.1:7077'",
				"'--class' 'org.apache.spark.examples.SparkPi' '/jobs/pi.jar' '10'"},
			wantNone: []string{"yarn"},
		},
		{
			name: "hive query of the seed, with its dangling --hiveconf",
			task: UserTask{Type: "hive", HiveQuery: "create table if not exists t1 (col1 string); insert into table t1 values ('a'), ('b'), ('c');",
				ExecOpts: "--hiveconf hive.tez.container.size=1024 --hiveconf"},
			want: []string{"'/spark/bin/spark-sql'", "'--hiveconf' 'hive.tez.container.size=1024' '-e'",
				`values ('\''a'\''), ('\''b'\''), ('\''c'\'');'`, "spark.sql.warehouse.dir=hdfs://127.1.0.1:8020/user/hive/warehouse"},
			wantNone: []string{"'--hiveconf' '-e'"},
		},
		{
			name: "hive query file",
			task: UserTask{Type: "hive", FileURL: "https://x/q.sql"},
			file: "/tasks/q.sql",
			want: []string{"'-f' '/tasks/q.sql'"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := taskScript("/spark", "127.1.0.1", tc.task, tc.file)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("script lacks %s:\n%s", w, got)
				}
			}
			for _, w := range tc.wantNone {
				if strings.Contains(got, w) {
					t.Errorf("script has %s:\n%s", w, got)
				}
			}
		})
	}
}

func TestParseFlavors(t *testing.T) {
	got, err := ParseFlavors(" m2a.xlarge=4:16, big=64:512 ")
	if err != nil || len(got) != 2 || got["big"].Cores != 64 || got["big"].MemoryBytes != 512<<30 {
		t.Fatalf("ParseFlavors = %v, %v", got, err)
	}
	for _, bad := range []string{"x", "x=4", "x=a:1", "x=0:1", "=1:1"} {
		if _, err := ParseFlavors(bad); err == nil {
			t.Errorf("ParseFlavors(%q) accepted", bad)
		}
	}
	if h := daemonHeap(got["m2a.xlarge"]); h != 256<<20 {
		t.Errorf("heap of m2a.xlarge = %d", h)
	}
	if h := daemonHeap(got["big"]); h != 2<<30 {
		t.Errorf("heap of big = %d", h)
	}
}
