package agent

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/runner"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	const doc = `{
		"beans": [
			{"name": "a", "NumLiveDataNodes": 3, "tag.HAState": "active", "tag": {"x": 1}, "big": 12345678901234567890},
			{"name": "b", "list": [[10, 11], [20]]}
		],
		"status": "ALIVE",
		"a.b": {"c": "dotted"},
		"a": {"b": {"c": "nested"}},
		"empty": {},
		"null": null
	}`
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		want   any
		wantOK bool
	}{
		{"status", "ALIVE", true},
		{"beans.0.name", "a", true},
		{"beans.1.name", "b", true},
		{"beans.0.NumLiveDataNodes", json.Number("3"), true},
		{"beans.0.big", json.Number("12345678901234567890"), true},
		{"beans.0.tag.HAState", "active", true}, // a member whose name holds a dot
		{"beans.0.tag.x", json.Number("1"), true},
		{"beans.1.list.0.1", json.Number("11"), true},
		{"beans.1.list.1.0", json.Number("20"), true},
		{"a.b.c", "nested", true}, // the shortest member name first
		{"null", nil, true},
		{"beans.2.name", nil, false},
		{"beans.-1.name", nil, false},
		{"beans.01.name", nil, false},
		{"beans.x", nil, false},
		{"status.x", nil, false},
		{"nope", nil, false},
		{"empty.x", nil, false},
		{"beans.1.list.1.5", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := extract(v, tc.path)
			if ok != tc.wantOK || !cmp.Equal(got, tc.want) {
				t.Errorf("extract(%q) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if got, ok := extract(v, ""); !ok || !cmp.Equal(got, v) {
		t.Errorf("the empty path is not the document")
	}
}

func TestConfPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"core-site.xml", "core-site.xml", true},
		{"sub/dir/file", "sub/dir/file", true},
		{"./a", "a", true},
		{"a/../b", "b", true},
		{"..foo", "..foo", true},
		{"", "", false},
		{"/etc/passwd", "", false},
		{"..", "", false},
		{".", "", false},
		{"../x", "", false},
		{"a/../../x", "", false},
		{"a\x00b", "", false},
	}
	for _, tc := range tests {
		got, err := confPath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("confPath(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestValidRoleName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"hdfs-NAMENODE-1": true, "a_b.c": true,
		"": false, ".": false, "..": false, ".hidden": false, "a/b": false, "a\x00": false,
		strings.Repeat("x", 201): false,
	} {
		if err := validRoleName(name); (err == nil) != ok {
			t.Errorf("validRoleName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {5, 32 * time.Second},
		{6, time.Minute}, {7, time.Minute}, {100, time.Minute},
	}
	for _, tc := range tests {
		if got := backoff(tc.n, time.Second, time.Minute); got != tc.want {
			t.Errorf("backoff(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"MemTotal:       16314532 kB\nMemFree:         1234 kB\n", 16314532 * 1024},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2048 * 1024},
		{"MemTotal: 100\n", 100},
		{"MemTotal: x kB\n", 0},
		{"", 0},
	}
	for _, tc := range tests {
		if got := parseMemTotal([]byte(tc.in)); got != tc.want {
			t.Errorf("parseMemTotal(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestCommand checks the argv and environment of each runtime.
func TestCommand(t *testing.T) {
	t.Parallel()
	a := &Agent{
		log:      slog.New(slog.DiscardHandler),
		rolesDir: "/data/roles",
		cfg:      Config{DataDir: "/data"},
		getenv: func(k string) string {
			return map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/home/herd", "USER": "herd", "SECRET": "no"}[k]
		},
	}
	s := newSupervisorForTest(a, "r1")
	rts := runtimes{
		spark: &sparkRuntime{home: "/opt/spark", javaHome: "/opt/jdk", version: "4.1.0"},
		hadoop: &hadoopRuntime{home: "/opt/hadoop", javaHome: "/opt/jdk17", version: "3.5.0",
			javaArgs: func(confDir string, heapMB int, mainClass string, args ...string) []string {
				return append([]string{"/opt/jdk17/bin/java", "-Xmx" + strconv.Itoa(heapMB) + "m", "-cp", confDir + ":/opt/hadoop/lib/*", mainClass}, args...)
			}},
	}
	base := []string{"HOME=/home/herd", "LANG=C.UTF-8", "PATH=/usr/bin:/bin", "USER=herd"}
	tests := []struct {
		name     string
		rts      runtimes
		launch   agentapi.Launch
		wantArgv []string
		wantEnv  []string // besides base
		wantErr  string
	}{
		{
			name:     "exec",
			rts:      rts,
			launch:   agentapi.Launch{Runtime: agentapi.RuntimeExec, Command: []string{"/bin/echo", "hi"}, Env: map[string]string{"FOO": "bar", "LANG": "en_US.UTF-8"}},
			wantArgv: []string{"/bin/echo", "hi"},
			wantEnv:  []string{"FOO=bar", "JAVA_HOME=/opt/jdk17", "LANG=en_US.UTF-8"},
		},
		{
			name:   "hadoop",
			rts:    rts,
			launch: agentapi.Launch{Runtime: agentapi.RuntimeHadoop, MainClass: "org.NameNode", Args: []string{"-x"}, HeapMB: 512},
			wantArgv: []string{"/opt/jdk17/bin/java", "-Xmx512m", "-cp", "/data/roles/r1/conf:/opt/hadoop/lib/*",
				"org.NameNode", "-x"},
			wantEnv: []string{"HADOOP_CONF_DIR=/data/roles/r1/conf", "HADOOP_HOME=/opt/hadoop",
				"HADOOP_LOG_DIR=/data/roles/r1/logs", "JAVA_HOME=/opt/jdk17"},
		},
		{
			name:     "spark",
			rts:      rts,
			launch:   agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.Master", Args: []string{"--host", "10.0.0.1"}, HeapMB: 256, Env: map[string]string{"SPARK_LOCAL_IP": "10.0.0.1"}},
			wantArgv: []string{"/opt/spark/bin/spark-class", "org.Master", "--host", "10.0.0.1"},
			wantEnv: []string{"JAVA_HOME=/opt/jdk", "SPARK_CONF_DIR=/data/roles/r1/conf", "SPARK_DAEMON_MEMORY=256m",
				"SPARK_HOME=/opt/spark", "SPARK_LOCAL_IP=10.0.0.1", "SPARK_LOG_DIR=/data/roles/r1/logs", "SPARK_NO_DAEMONIZE=1"},
		},
		{
			name:     "spark without heap",
			rts:      rts,
			launch:   agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.Worker"},
			wantArgv: []string{"/opt/spark/bin/spark-class", "org.Worker"},
			wantEnv: []string{"JAVA_HOME=/opt/jdk", "SPARK_CONF_DIR=/data/roles/r1/conf", "SPARK_HOME=/opt/spark",
				"SPARK_LOG_DIR=/data/roles/r1/logs", "SPARK_NO_DAEMONIZE=1"},
		},
		{
			name:    "hadoop missing",
			rts:     runtimes{hadoopErr: "no jars in /x"},
			launch:  agentapi.Launch{Runtime: agentapi.RuntimeHadoop, MainClass: "org.NameNode"},
			wantErr: "the hadoop runtime is missing on this host: no jars in /x",
		},
		{
			name:    "spark missing",
			rts:     runtimes{sparkErr: "no java"},
			launch:  agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.Master"},
			wantErr: "the spark runtime is missing on this host: no java",
		},
		{name: "no main class", rts: rts, launch: agentapi.Launch{Runtime: agentapi.RuntimeSpark}, wantErr: "no main class"},
		{name: "relative command", rts: rts, launch: agentapi.Launch{Runtime: agentapi.RuntimeExec, Command: []string{"sleep"}}, wantErr: "not an absolute path"},
		{name: "no command", rts: rts, launch: agentapi.Launch{Runtime: agentapi.RuntimeExec}, wantErr: "no command"},
		{name: "unknown runtime", rts: rts, launch: agentapi.Launch{Runtime: "yarn"}, wantErr: `runtime "yarn" is unknown`},
		{name: "no runtime", rts: rts, launch: agentapi.Launch{}, wantErr: "names no runtime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.launch
			argv, env, err := s.command(tc.rts, l, l.MainClass, l.Args, l.Command)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantArgv, argv); d != "" {
				t.Errorf("argv (-want +got):\n%s", d)
			}
			want := map[string]string{}
			for _, kv := range append(append([]string{}, base...), tc.wantEnv...) {
				k, v, _ := strings.Cut(kv, "=")
				want[k] = v
			}
			got := map[string]string{}
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("env (-want +got):\n%s", d)
			}
		})
	}
}

func newSupervisorForTest(a *Agent, name string) *supervisor {
	return newSupervisor(a, name, nil)
}

func TestDescribeExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		exit runner.Exit
		want string
	}{
		{runner.Exit{Code: 3, Known: true}, "exited with code 3"},
		{runner.Exit{Code: -1, Known: true, Signal: "killed"}, "killed by signal (killed)"},
		{runner.Exit{Code: -1, Known: true, Error: "start /x: no such file"}, "the process could not be started: start /x: no such file"},
		{runner.Exit{Code: -1}, "ended without an exit status"},
		{runner.Exit{Code: -1, Signal: "killed"}, "ended without an exit status (its wrapper was killed by signal killed)"},
	} {
		if got := describeExit(tc.exit); got != tc.want {
			t.Errorf("describeExit(%+v) = %q, want %q", tc.exit, got, tc.want)
		}
	}
}
