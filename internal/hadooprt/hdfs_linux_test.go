package hadooprt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The NameNode and the DataNode each bind their own loopback address, as
// two hosts would; on Linux all of 127.0.0.0/8 reaches lo.
const (
	nnHost = "127.0.1.10"
	dnHost = "127.0.1.11"
	heapMB = 256
)

// runtimeOrSkip is the project's Hadoop runtime; without one the test is
// skipped, unless HERD_REQUIRE_COMPAT=1 asks for it to fail.
func runtimeOrSkip(t *testing.T) Runtime {
	t.Helper()
	rt, err := Discover(context.Background(), Config{})
	if err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return rt
}

// freePorts finds n distinct free TCP ports on host.
func freePorts(t *testing.T, host string, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatalf("listen on %s: %v", host, err)
		}
		defer l.Close() // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

type daemon struct {
	name    string
	cmd     *exec.Cmd
	log     string
	started time.Time
	done    chan struct{}
	err     error // of Wait, once done is closed
}

// logTail is the end of the daemon's output, for failure messages.
func (d *daemon) logTail() string {
	b, _ := os.ReadFile(d.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// A real NameNode and DataNode from build/hadoop: format (twice), start,
// wait until the DataNode is live and safe mode is off, put a file and
// read it back, stop both with SIGTERM.
func TestHDFSDaemons(t *testing.T) {
	rt := runtimeOrSkip(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	nnPorts := freePorts(t, nnHost, 2) // RPC, HTTP
	dnPorts := freePorts(t, dnHost, 3) // data transfer, HTTP, IPC
	nnRPC := net.JoinHostPort(nnHost, strconv.Itoa(nnPorts[0]))
	nnHTTP := net.JoinHostPort(nnHost, strconv.Itoa(nnPorts[1]))
	fsURI := "hdfs://" + nnRPC
	nameDir := filepath.Join(dir, "name")
	if err := WriteSiteXML(filepath.Join(conf, "core-site.xml"), map[string]string{
		"fs.defaultFS":   fsURI,
		"hadoop.tmp.dir": filepath.Join(dir, "tmp"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := WriteSiteXML(filepath.Join(conf, "hdfs-site.xml"), map[string]string{
		"dfs.namenode.name.dir":     nameDir,
		"dfs.namenode.rpc-address":  nnRPC,
		"dfs.namenode.http-address": nnHTTP,
		"dfs.datanode.data.dir":     filepath.Join(dir, "data"),
		"dfs.datanode.address":      net.JoinHostPort(dnHost, strconv.Itoa(dnPorts[0])),
		"dfs.datanode.http.address": net.JoinHostPort(dnHost, strconv.Itoa(dnPorts[1])),
		"dfs.datanode.ipc.address":  net.JoinHostPort(dnHost, strconv.Itoa(dnPorts[2])),
		"dfs.replication":           "1",
		// The NameNode sees the DataNode connect from 127.0.0.1, not from
		// dnHost, and would send clients there; the DataNode's own name for
		// itself, used by clients that ask for names, is its address.
		"dfs.datanode.hostname":              dnHost,
		"dfs.client.use.datanode.hostname":   "true",
		"dfs.datanode.use.datanode.hostname": "true",
	}); err != nil {
		t.Fatal(err)
	}
	if err := WriteLog4j(conf); err != nil {
		t.Fatal(err)
	}

	// run runs a short-lived Hadoop command and returns its output.
	run := func(main string, args ...string) (string, error) {
		t.Helper()
		argv := rt.JavaArgs(conf, heapMB, main, args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "JAVA_HOME="+rt.JavaHome)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	// Format, then check that a second format leaves the namespace alone.
	start := time.Now()
	if out, err := run(NameNode, "-format", "-nonInteractive"); err != nil || !NameDirFormatted(nameDir) {
		t.Fatalf("format: %v\n%s", err, out)
	}
	t.Logf("format: %v", time.Since(start).Round(time.Millisecond))
	version, err := os.ReadFile(filepath.Join(nameDir, "current", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(NameNode, "-format", "-nonInteractive")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "Not formatting") {
		t.Fatalf("second format: %v, want exit status 1 and \"Not formatting\"\n%s", err, out)
	}
	if again, _ := os.ReadFile(filepath.Join(nameDir, "current", "VERSION")); !bytes.Equal(again, version) {
		t.Fatalf("the second format changed current/VERSION:\n%s\nto\n%s", version, again)
	}

	startDaemon := func(name, main string) *daemon {
		t.Helper()
		d := &daemon{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
		f, err := os.Create(d.log)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close() // the child has its own descriptor
		argv := rt.JavaArgs(conf, heapMB, main)
		d.cmd = exec.Command(argv[0], argv[1:]...)
		d.cmd.Dir = dir
		d.cmd.Env = append(os.Environ(), "JAVA_HOME="+rt.JavaHome)
		d.cmd.Stdout, d.cmd.Stderr = f, f
		d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		d.started = time.Now()
		if err := d.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		go func() { d.err = d.cmd.Wait(); close(d.done) }()
		t.Cleanup(func() {
			select {
			case <-d.done:
			default:
				_ = d.cmd.Process.Kill()
				<-d.done
			}
		})
		return d
	}
	nn := startDaemon("namenode", NameNode)
	dn := startDaemon("datanode", DataNode)
	failf := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n--- namenode:\n%s\n--- datanode:\n%s", append(args, nn.logTail(), dn.logTail())...)
	}

	// Wait for the NameNode's JMX to show the DataNode live and safe mode off.
	client := &http.Client{Timeout: 2 * time.Second}
	jmx := func(path string) ([]byte, error) {
		resp, err := client.Get("http://" + nnHTTP + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", path, resp.Status)
		}
		return b, err
	}
	var httpUp, live time.Duration
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, err := jmx(NameNodeStatusPath)
		if err == nil && httpUp == 0 {
			httpUp = time.Since(nn.started)
		}
		st, perr := ParseNameNodeStatus(b)
		if err == nil && perr == nil && st.LiveDataNodes == 1 && !st.SafeMode {
			live = time.Since(nn.started)
			break
		}
		select {
		case <-nn.done:
			failf("the NameNode exited: %v", nn.err)
		case <-dn.done:
			failf("the DataNode exited: %v", dn.err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			failf("no live DataNode with safe mode off after 90s: %+v %v %v", st, err, perr)
		}
	}
	t.Logf("NameNode JMX answers after %v; DataNode live and safe mode off after %v; RSS namenode %d MiB, datanode %d MiB",
		httpUp.Round(time.Millisecond), live.Round(time.Millisecond), rssKiB(nn.cmd.Process.Pid)/1024, rssKiB(dn.cmd.Process.Pid)/1024)

	// The web UI is served too, not only JMX.
	if b, err := jmx("/dfshealth.html"); err != nil || !strings.Contains(string(b), "<html") {
		failf("NameNode web UI: %v", err)
	}

	// Put a file (replication 1) and read it back.
	local := filepath.Join(dir, "hello.txt")
	want := "hello from herd\n"
	if err := os.WriteFile(local, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if out, err := run(FsShell, "-D", "dfs.replication=1", "-put", local, "/hello.txt"); err != nil {
		failf("put: %v\n%s", err, out)
	}
	t.Logf("put: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	argv := rt.JavaArgs(conf, heapMB, FsShell, "-cat", fsURI+"/hello.txt")
	cat := exec.Command(argv[0], argv[1:]...)
	cat.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cat.Stderr = &stderr
	got, err := cat.Output()
	if err != nil || string(got) != want {
		failf("cat: %q, %v, want %q\n%s", got, err, want, stderr.String())
	}
	t.Logf("cat: %v", time.Since(start).Round(time.Millisecond))

	// SIGTERM stops both.
	start = time.Now()
	for _, d := range []*daemon{dn, nn} {
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM %s: %v", d.name, err)
		}
	}
	for _, d := range []*daemon{dn, nn} {
		select {
		case <-d.done:
		case <-time.After(30 * time.Second):
			failf("the %s did not exit within 30s of SIGTERM", d.name)
		}
		if !strings.Contains(d.logTail(), "SHUTDOWN_MSG") {
			failf("the %s exited (%v) without its shutdown message", d.name, d.err)
		}
	}
	t.Logf("stop: %v (exit: namenode %v, datanode %v)", time.Since(start).Round(time.Millisecond), nn.err, dn.err)
}
