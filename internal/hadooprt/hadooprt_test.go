package hadooprt

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeRuntime lays out what setup.sh makes, with empty jars.
func fakeRuntime(t *testing.T, dir string) string {
	t.Helper()
	for _, d := range []string{"lib", "resources/webapps/hdfs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		"lib/hadoop-hdfs-3.5.0.jar":        "",
		"lib/hadoop-hdfs-client-3.5.0.jar": "",
		"VERSION":                          "3.5.0\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func noEnv(string) string { return "" }

func TestDiscover(t *testing.T) {
	home := fakeRuntime(t, t.TempDir())
	noVersion := fakeRuntime(t, t.TempDir())
	if err := os.Remove(filepath.Join(noVersion, "VERSION")); err != nil {
		t.Fatal(err)
	}
	noWebapps := fakeRuntime(t, t.TempDir())
	if err := os.RemoveAll(filepath.Join(noWebapps, "resources")); err != nil {
		t.Fatal(err)
	}
	project := t.TempDir() // a project root with build/hadoop, for the default
	if err := os.WriteFile(filepath.Join(project, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeRuntime(t, filepath.Join(project, "build", "hadoop"))
	if err := os.MkdirAll(filepath.Join(project, "internal", "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	envHome := func(k string) string {
		if k == EnvHome {
			return home
		}
		return ""
	}

	for _, tc := range []struct {
		name     string
		cfg      Config
		wd       string // working directory, when it matters
		wantHome string
		wantErr  string
	}{
		{name: "explicit home", cfg: Config{Home: home, Getenv: noEnv}, wantHome: home},
		{name: "explicit home wins over the environment", cfg: Config{Home: noVersion, Getenv: envHome}, wantHome: noVersion},
		{name: "environment", cfg: Config{Getenv: envHome}, wd: t.TempDir(), wantHome: home},
		{name: "project default", cfg: Config{Getenv: noEnv}, wd: filepath.Join(project, "internal", "pkg"), wantHome: filepath.Join(project, "build", "hadoop")},
		{name: "version from the jar", cfg: Config{Home: noVersion, Getenv: noEnv}, wantHome: noVersion},
		{name: "nothing there", cfg: Config{Home: t.TempDir(), Getenv: noEnv}, wantErr: "run 'make setup'"},
		{name: "no project", cfg: Config{Getenv: noEnv}, wd: t.TempDir(), wantErr: "set " + EnvHome},
		{name: "no webapps", cfg: Config{Home: noWebapps, Getenv: noEnv}, wantErr: "no resources/webapps/hdfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wd != "" {
				t.Chdir(tc.wd)
			}
			rt, err := Discover(context.Background(), tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rt.Home != tc.wantHome || rt.LibDir != filepath.Join(tc.wantHome, "lib") || rt.ResourceDir != filepath.Join(tc.wantHome, "resources") {
				t.Fatalf("runtime %+v, want home %s", rt, tc.wantHome)
			}
			if rt.Version != "3.5.0" || rt.JavaVersion < MinJava || !filepath.IsAbs(rt.Java) {
				t.Fatalf("runtime %+v", rt)
			}
		})
	}
}

func TestDiscoverRelativeHome(t *testing.T) {
	dir := t.TempDir()
	fakeRuntime(t, filepath.Join(dir, "rt"))
	t.Chdir(dir)
	rt, err := Discover(context.Background(), Config{Home: "rt", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(rt.Home) || !filepath.IsAbs(rt.LibDir) {
		t.Fatalf("relative paths in %+v: daemons have their own working directories", rt)
	}
}

func TestDiscoverNoJava(t *testing.T) {
	home := fakeRuntime(t, t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := Discover(context.Background(), Config{Home: home, Getenv: noEnv})
	if err == nil || !strings.Contains(err.Error(), "no java: HDFS needs Java 17") {
		t.Fatalf("without java: %v", err)
	}
}

func TestJavaArgs(t *testing.T) {
	rt := Runtime{Home: "/h", LibDir: "/h/lib", ResourceDir: "/h/resources", Java: "/jdk/bin/java"}
	for _, tc := range []struct {
		name      string
		conf      string
		heap      int
		main      string
		args      []string
		wantCP    string
		wantHeap  string
		wantAfter []string // what follows the main class
	}{
		{"daemon", "/c", 256, NameNode, nil, "/c:/h/resources:/h/lib/*", "-Xmx256m", nil},
		{"format", "/c", 256, NameNode, []string{"-format", "-nonInteractive"}, "/c:/h/resources:/h/lib/*", "-Xmx256m", []string{"-format", "-nonInteractive"}},
		{"no conf, default heap", "", 0, FsShell, []string{"-ls", "/"}, "/h/resources:/h/lib/*", "", []string{"-ls", "/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := rt.JavaArgs(tc.conf, tc.heap, tc.main, tc.args...)
			if argv[0] != rt.Java {
				t.Fatalf("argv[0] = %s", argv[0])
			}
			i := slices.Index(argv, tc.main)
			if i < 0 || !slices.Equal(argv[i+1:], tc.wantAfter) {
				t.Fatalf("argv %q: want %s followed by %q", argv, tc.main, tc.wantAfter)
			}
			opts := argv[1:i]
			cp := slices.Index(opts, "-cp")
			if cp < 0 || opts[cp+1] != tc.wantCP {
				t.Fatalf("class path in %q, want %s", opts, tc.wantCP)
			}
			hasHeap := slices.ContainsFunc(opts, func(o string) bool { return strings.HasPrefix(o, "-Xmx") })
			if tc.wantHeap == "" && hasHeap || tc.wantHeap != "" && !slices.Contains(opts, tc.wantHeap) {
				t.Fatalf("options %q, want heap %q", opts, tc.wantHeap)
			}
			for _, want := range []string{"-Djava.net.preferIPv4Stack=true", "-Dhadoop.home.dir=/h"} {
				if !slices.Contains(opts, want) {
					t.Fatalf("options %q lack %s", opts, want)
				}
			}
		})
	}
}

func TestWriteSiteXML(t *testing.T) {
	type property struct {
		Name  string `xml:"name"`
		Value string `xml:"value"`
	}
	for _, tc := range []struct {
		name    string
		props   map[string]string
		wantErr string
	}{
		{name: "plain", props: map[string]string{"fs.defaultFS": "hdfs://127.0.1.10:8020", "dfs.replication": "1"}},
		{name: "escaped", props: map[string]string{"a": `<x> & "y" 'z'`, "b": "line\nnext\ttab", "c": "${hadoop.tmp.dir}/dfs", "d": "ünïcode"}},
		{name: "empty value", props: map[string]string{"dfs.hosts": ""}},
		{name: "none", props: map[string]string{}},
		{name: "empty name", props: map[string]string{" ": "x"}, wantErr: "empty name"},
		{name: "control character", props: map[string]string{"a": "x\x00y"}, wantErr: "U+0000"},
		{name: "invalid UTF-8", props: map[string]string{"a": "\xff"}, wantErr: "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "conf", "core-site.xml")
			err := WriteSiteXML(path, tc.props)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				XMLName    xml.Name   `xml:"configuration"`
				Properties []property `xml:"property"`
			}
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%v in\n%s", err, b)
			}
			var names []string
			for _, p := range doc.Properties {
				names = append(names, p.Name)
				if want, ok := tc.props[p.Name]; !ok || p.Value != want {
					t.Errorf("property %q = %q, want %q", p.Name, p.Value, want)
				}
			}
			if len(names) != len(tc.props) || !slices.IsSorted(names) {
				t.Fatalf("properties %q: want all %d, sorted", names, len(tc.props))
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Fatalf("left behind: %v", entries)
			}
		})
	}
}

func TestWriteLog4j(t *testing.T) {
	dir := t.TempDir()
	if err := WriteLog4j(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "log4j.properties"))
	if err != nil || string(b) != Log4jProperties {
		t.Fatalf("log4j.properties: %q, %v", b, err)
	}
}

func TestParseNameNodeStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		want    NameNodeStatus
		wantErr string
	}{
		{name: "operational", body: `{"beans":[{"name":"Hadoop:service=NameNode,name=FSNamesystemState","FSState":"Operational","NumLiveDataNodes":1,"NumDeadDataNodes":0}]}`,
			want: NameNodeStatus{LiveDataNodes: 1}},
		{name: "safe mode", body: `{"beans":[{"FSState":"safeMode","NumLiveDataNodes":0,"NumDeadDataNodes":2}]}`,
			want: NameNodeStatus{DeadDataNodes: 2, SafeMode: true}},
		{name: "no bean", body: `{"beans":[]}`, wantErr: "no FSNamesystemState bean"},
		{name: "another bean", body: `{"beans":[{"name":"java.lang:type=Memory"}]}`, wantErr: "no FSNamesystemState bean"},
		{name: "not JSON", body: `<html>`, wantErr: "parse NameNode JMX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNameNodeStatus([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestNameDirFormatted(t *testing.T) {
	dir := t.TempDir()
	if NameDirFormatted(dir) {
		t.Fatal("an empty directory is formatted")
	}
	if err := os.MkdirAll(filepath.Join(dir, "current"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "current", "VERSION"), []byte("namespaceID=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !NameDirFormatted(dir) {
		t.Fatal("a directory with current/VERSION is not formatted")
	}
}
