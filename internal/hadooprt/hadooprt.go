package hadooprt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/javart"
)

// MinJava is the oldest Java the Hadoop 3.5 daemons run on.
const MinJava = 17

// The main classes the hdfs launcher script runs.
const (
	NameNode          = "org.apache.hadoop.hdfs.server.namenode.NameNode"
	DataNode          = "org.apache.hadoop.hdfs.server.datanode.DataNode"
	SecondaryNameNode = "org.apache.hadoop.hdfs.server.namenode.SecondaryNameNode"
	FsShell           = "org.apache.hadoop.fs.FsShell"          // hdfs dfs
	DFSAdmin          = "org.apache.hadoop.hdfs.tools.DFSAdmin" // hdfs dfsadmin
)

// EnvHome names the environment variable that points at a Hadoop runtime
// directory; DefaultHome is where scripts/setup.sh puts it, relative to the
// project root.
const (
	EnvHome     = "HERD_HADOOP_HOME"
	DefaultHome = "build/hadoop"
)

// jvmOptions go into every command line. IPv4 sockets, as hadoop-env.sh
// sets by default: Hadoop's networking is not made for IPv6.
//
// Nothing else is needed on Java 17: formatting, a NameNode, a DataNode and
// a SecondaryNameNode (with a checkpoint), their web UIs, JMX and WebHDFS,
// FsShell put/cat/text/ls, DFSAdmin and fsck all run without any
// --add-opens. Hadoop's own launcher (hadoop-functions.sh, HADOOP-19310)
// passes --add-opens=java.base/<p>=ALL-UNNAMED for java.io, java.lang,
// java.lang.reflect, java.math, java.net, java.text, java.util,
// java.util.concurrent, java.util.zip, sun.security.util and
// sun.security.x509, mostly for its tests; add them here if a code path
// (Kerberos, for one) ever fails with "module java.base does not open".
var jvmOptions = []string{
	"-Djava.net.preferIPv4Stack=true",
}

// Runtime is a usable Hadoop installation.
type Runtime struct {
	Home        string // absolute; holds VERSION, lib/ and resources/
	LibDir      string // the jars
	ResourceDir string // holds webapps/ for the daemons' web servers
	Version     string // e.g. 3.5.0
	Java        string // absolute path of the java binary
	JavaHome    string // JAVA_HOME for the daemons, when known
	JavaVersion int
}

// Config says where to look.
type Config struct {
	Home   string              // explicit runtime directory, e.g. build/hadoop
	Getenv func(string) string // os.Getenv when nil
}

// Discover finds the runtime, or explains what is missing. The runtime
// directory is c.Home, else $HERD_HADOOP_HOME, else build/hadoop under the
// project root: the nearest directory above the working directory that
// holds a go.mod.
func Discover(ctx context.Context, c Config) (Runtime, error) {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	home := c.Home
	if home == "" {
		home = c.Getenv(EnvHome)
	}
	if home == "" {
		root, err := projectRoot()
		if err != nil {
			return Runtime{}, fmt.Errorf("no Hadoop runtime: set %s to one (make setup puts it in %s): %w", EnvHome, DefaultHome, err)
		}
		home = filepath.Join(root, DefaultHome)
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return Runtime{}, fmt.Errorf("resolve Hadoop home: %w", err)
	}
	rt := Runtime{Home: home, LibDir: filepath.Join(home, "lib"), ResourceDir: filepath.Join(home, "resources")}
	jar := hdfsJar(rt.LibDir)
	if jar == "" {
		return Runtime{}, fmt.Errorf("no Hadoop runtime in %s: run 'make setup' (it fetches the HDFS jars from Maven Central), or set %s", home, EnvHome)
	}
	if info, err := os.Stat(filepath.Join(rt.ResourceDir, "webapps", "hdfs")); err != nil || !info.IsDir() {
		return Runtime{}, fmt.Errorf("the Hadoop runtime in %s has no resources/webapps/hdfs, without which the NameNode cannot start: run 'make setup'", home)
	}
	if b, err := os.ReadFile(filepath.Join(home, "VERSION")); err == nil {
		rt.Version = strings.TrimSpace(string(b))
	}
	if rt.Version == "" {
		rt.Version = strings.TrimSuffix(strings.TrimPrefix(jar, "hadoop-hdfs-"), ".jar")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var j javart.Java
	if j, err = javart.Find(ctx, c.Getenv, MinJava, "HDFS"); err != nil {
		return Runtime{}, err
	}
	rt.Java, rt.JavaHome, rt.JavaVersion = j.Path, j.Home, j.Version
	return rt, nil
}

var hdfsJarRE = regexp.MustCompile(`^hadoop-hdfs-[0-9][^-]*\.jar$`)

// hdfsJar is the name of the hadoop-hdfs jar in lib, or "".
func hdfsJar(lib string) string {
	entries, _ := os.ReadDir(lib)
	for _, e := range entries {
		if hdfsJarRE.MatchString(e.Name()) {
			return e.Name()
		}
	}
	return ""
}

// projectRoot walks up from the working directory to the first directory
// with a go.mod.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Classpath is the daemons' class path: the configuration directory first
// (core-site.xml, hdfs-site.xml, log4j.properties), then the web resources,
// then every jar.
func (r Runtime) Classpath(confDir string) string {
	parts := []string{r.ResourceDir, filepath.Join(r.LibDir, "*")}
	if confDir != "" {
		if abs, err := filepath.Abs(confDir); err == nil {
			confDir = abs
		}
		parts = append([]string{confDir}, parts...)
	}
	return strings.Join(parts, string(os.PathListSeparator))
}

// JavaArgs is the full command line (java first) that runs mainClass with
// args, a heap of heapMB MiB (the JVM's default when 0) and the
// configuration in confDir. Run the daemons in the foreground: they log to
// stderr (with WriteLog4j's configuration) and stop cleanly on SIGTERM
// (exit status 143). hadoop.home.dir names the runtime, as HADOOP_HOME
// would; hadoop.log.dir stays unset, so the web UIs have no /logs page and
// `dfsadmin -metasave` writes into the NameNode's working directory.
func (r Runtime) JavaArgs(confDir string, heapMB int, mainClass string, args ...string) []string {
	argv := make([]string, 0, len(jvmOptions)+8+len(args))
	argv = append(argv, r.Java)
	if heapMB > 0 {
		argv = append(argv, "-Xmx"+strconv.Itoa(heapMB)+"m")
	}
	argv = append(argv, jvmOptions...)
	argv = append(argv, "-Dhadoop.home.dir="+r.Home, "-cp", r.Classpath(confDir), mainClass)
	return append(argv, args...)
}

// NameDirFormatted says whether dir (dfs.namenode.name.dir) already holds a
// formatted namespace. A second `NameNode -format -nonInteractive` on such a
// directory refuses ("data appears to exist ... Not formatting"), leaves it
// as it is and exits with status 1, so format only when this is false.
func NameDirFormatted(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "current", "VERSION"))
	return err == nil
}
