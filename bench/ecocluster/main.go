//go:build linux

// Command ecocluster measures Herd's Hadoop Eco API against a real herd
// server process on the local host provider, where each VM is a herd
// agent process on 127.1.0.x running real HDFS and Spark daemons:
//
//   - (a) create: from POST /v2/hadoop-eco/clusters (1 master and 3
//     workers of m2a.xlarge, HDFS replication 3, block size 128 MB, no
//     user script) until the cluster is Running with isScalable true,
//     which the server reports once every HDFS and Spark role is GOOD;
//     target under 60 s (the same cluster took about 340 s on KakaoCloud);
//   - (b) scale-out: from POST .../{id}/scale-out {"scaleCnt":1} until it
//     is Running with isScalable true again, the new worker's DataNode and
//     Spark worker GOOD; target under 30 s;
//   - delete: from DELETE .../{id} until Terminated(User), reported only.
//
// Each run is a new cluster with a name of its own on the same server; the
// cluster is polled every 250 ms. The report has a table per run, the
// medians judged against the targets, the machine, the Go and Hadoop
// versions, and, for (a), the time the cluster spent Initializing (VMs
// created, agents registered) and Installing (HDFS and Spark set up,
// started and GOOD).
//
// The server (herd server --local-agent=false, built from ./cmd/herd
// unless -herd names a binary) runs with a temporary data directory and
// the repository root as its working directory, from where the VM agents
// find the Hadoop jars (build/hadoop) and the Spark venv (.venv) that make
// setup installs. Run it from the repository (Linux only):
//
//	make setup && go run ./bench/ecocluster -runs 2
//
// The report goes to standard output, progress to standard error. On a
// failure it prints the cluster's GET answer and the tail of the server
// log, stops the server, kills every process left whose command line or
// working directory is under the data directory, keeps the temporary
// directory and exits with status 1. It also exits with status 1 when a
// median misses its target.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/herdhq/herd/bench/internal/benchserver"
)

const (
	ecoPrefix = "/v2/hadoop-eco/clusters"
	modPath   = "github.com/herdhq/herd"

	pollEvery    = 250 * time.Millisecond
	targetCreate = 60 * time.Second
	targetScale  = 30 * time.Second
	// kakaoCreate is how long the seed's clusters took on KakaoCloud from
	// the create request to Running.
	kakaoCreate = 340 * time.Second

	workers     = 3
	replication = 3
	blockSizeMB = 128
	flavor      = "m2a.xlarge"
)

// Cluster statuses of the Hadoop Eco API.
const (
	statusInstalling     = "Installing"
	statusRunning        = "Running"
	statusTerminatedUser = "Terminated(User)"
)

// errReported is a failure whose report has been printed.
var errReported = errors.New("failed")

type options struct {
	herd    string
	runs    int
	timeout time.Duration
	keep    bool
}

func main() {
	var o options
	flag.StringVar(&o.herd, "herd", "", "herd binary to run as the server (default: go build ./cmd/herd into a temporary directory)")
	flag.IntVar(&o.runs, "runs", 2, "clusters to create, scale out and delete, one after the other")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest wait for each of create, scale-out and delete")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server log, data directory) also after a successful run")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	pass, err := run(ctx, o)
	stop()
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "ecocluster:", err)
		}
		os.Exit(1)
	}
	if !pass {
		os.Exit(1)
	}
}

// run sets the server up, measures the runs and prints the report; it
// returns whether every median met its target.
func run(ctx context.Context, o options) (pass bool, err error) {
	if o.runs < 1 {
		return false, errors.New("-runs must be at least 1")
	}
	root, err := moduleRoot()
	if err != nil {
		return false, err
	}
	hadoop, err := os.ReadFile(filepath.Join(root, "build", "hadoop", "VERSION"))
	if err != nil {
		return false, fmt.Errorf("read Hadoop version (run make setup): %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".venv")); err != nil {
		return false, fmt.Errorf("find the Spark venv (run make setup): %w", err)
	}
	tmp, err := os.MkdirTemp("", "herd-ecocluster-")
	if err != nil {
		return false, fmt.Errorf("create temporary directory: %w", err)
	}
	keep := o.keep
	defer func() {
		if keep {
			fmt.Fprintf(os.Stderr, "kept %s (server log, data directory)\n", tmp)
			return
		}
		os.RemoveAll(tmp) //nolint:errcheck // a temporary directory
	}()
	bin := o.herd
	if bin == "" {
		bin = filepath.Join(tmp, "herd")
		fmt.Fprintln(os.Stderr, "building ./cmd/herd ...")
		if err := benchserver.Build(ctx, root, bin); err != nil {
			return false, err
		}
	}

	srv, err := benchserver.Start(ctx, benchserver.Config{Bin: bin, Dir: tmp, WorkDir: root, Args: []string{"--local-agent=false"}})
	if err != nil {
		return false, err
	}
	fmt.Fprintf(os.Stderr, "server pid %d on %s, working directory %s\n", srv.Pid(), srv.URL, root)

	results, ferr := measure(ctx, srv, o)
	if ferr != nil {
		keep = true
		ferr.report(os.Stderr, srv)
	}
	srv.Stop()
	left := killLeftovers(srv.DataDir)
	if ferr != nil {
		fmt.Fprintf(os.Stderr, "server stopped; %s\n", left.describe(srv.DataDir))
		return false, errReported
	}

	r := report{
		results: results, hadoop: strings.TrimSpace(string(hadoop)), serverGo: benchserver.GoVersion(bin),
		serverLog: srv.LogSummary(), left: left.describe(srv.DataDir),
	}
	r.fromLog(srv.LogPath)
	pass = r.print(os.Stdout) && len(left) == 0
	if len(left) > 0 {
		keep = true
	}
	return pass, nil
}

// moduleRoot returns the directory of the go.mod of Herd that holds the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for line := range strings.SplitSeq(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modPath {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the repository root: no go.mod of " + modPath + " above the working directory; run from the repository")
		}
		dir = parent
	}
}

// --- the runs ---------------------------------------------------------------

// result is what one run measured.
type result struct {
	name, id   string
	create     time.Duration // (a) POST to Running and isScalable
	installing time.Duration // POST to the first answer saying Installing
	scaleOut   time.Duration // (b) POST scale-out to Running and isScalable
	del        time.Duration // DELETE to Terminated(User)
	// From the server log: "cluster accepted" to "cluster running".
	serverCreate time.Duration
}

// failure is a run that failed, with the cluster it failed on.
type failure struct {
	err   error
	eco   *ecoClient // nil before the access key exists
	id    string     // empty before the cluster exists
	last  []byte     // the last answer about the cluster
	phase string
}

// report prints what is known about the failure: the error, the cluster's
// GET answer and the tail of the server log.
func (f *failure) report(w io.Writer, srv *benchserver.Server) {
	fmt.Fprintf(w, "FAILED: %s: %v\n", f.phase, f.err)
	switch {
	case f.id == "":
		fmt.Fprintln(w, "no cluster was created")
	case f.eco != nil:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, raw, err := f.eco.get(ctx, f.id)
		cancel()
		if err != nil {
			fmt.Fprintf(w, "GET %s/%s failed: %v; the last answer was:\n%s\n", ecoPrefix, f.id, err, indent(f.last))
		} else {
			fmt.Fprintf(w, "GET %s/%s:\n%s\n", ecoPrefix, f.id, indent(raw))
		}
	}
	fmt.Fprintln(w, srv.LogTail(40))
}

func indent(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// measure makes an access key and does the runs, one after the other.
func measure(ctx context.Context, srv *benchserver.Server, o options) ([]result, *failure) {
	hc := &http.Client{Timeout: 30 * time.Second}
	pw, err := srv.AdminPassword()
	if err != nil {
		return nil, &failure{err: err, phase: "set-up"}
	}
	id, secret, err := createAccessKey(ctx, hc, srv.URL, pw)
	if err != nil {
		return nil, &failure{err: err, phase: "set-up"}
	}
	eco := &ecoClient{base: srv.URL, hc: hc, id: id, secret: secret, serverDone: srv.Done()}
	var results []result
	for i := range o.runs {
		res, f := measureRun(ctx, eco, fmt.Sprintf("bench-%d", i+1), o.timeout)
		if f != nil {
			f.eco = eco
			f.phase = fmt.Sprintf("run %d (%s), %s", i+1, res.name, f.phase)
			return results, f
		}
		results = append(results, res)
	}
	return results, nil
}

// measureRun creates a cluster, scales it out by one worker and deletes it.
func measureRun(ctx context.Context, eco *ecoClient, name string, timeout time.Duration) (result, *failure) {
	res := result{name: name}
	fail := func(phase string, err error, last []byte) (result, *failure) {
		return res, &failure{err: err, id: res.id, last: last, phase: phase}
	}

	fmt.Fprintf(os.Stderr, "%s: create\n", name)
	start := time.Now()
	cl, raw, err := eco.call(ctx, http.MethodPost, "", createBody(name))
	if err != nil {
		return fail("create", err, raw)
	}
	res.id = cl.ID
	if cl.ID == "" {
		return fail("create", errors.New("the answer has no id"), raw)
	}
	_, raw, err = eco.wait(ctx, cl.ID, timeout, func(cl cluster) bool {
		if res.installing == 0 && cl.Status == statusInstalling {
			res.installing = time.Since(start)
			fmt.Fprintf(os.Stderr, "%s: Installing after %s\n", name, secs(res.installing))
		}
		return cl.Status == statusRunning && cl.IsScalable
	})
	if err != nil {
		return fail("create", err, raw)
	}
	res.create = time.Since(start)
	fmt.Fprintf(os.Stderr, "%s: Running after %s; scale-out\n", name, secs(res.create))

	start = time.Now()
	if _, raw, err := eco.call(ctx, http.MethodPost, "/"+res.id+"/scale-out", map[string]int{"scaleCnt": 1}); err != nil {
		return fail("scale-out", err, raw)
	}
	cl, raw, err = eco.wait(ctx, res.id, timeout, func(cl cluster) bool { return cl.Status == statusRunning && cl.IsScalable })
	if err != nil {
		return fail("scale-out", err, raw)
	}
	res.scaleOut = time.Since(start)
	if cl.WorkerCnt != workers+1 {
		return fail("scale-out", fmt.Errorf("workerCnt is %d after the scale-out, want %d", cl.WorkerCnt, workers+1), raw)
	}
	fmt.Fprintf(os.Stderr, "%s: scaled out after %s; delete\n", name, secs(res.scaleOut))

	start = time.Now()
	if _, raw, err := eco.call(ctx, http.MethodDelete, "/"+res.id, nil); err != nil {
		return fail("delete", err, raw)
	}
	if _, raw, err = eco.wait(ctx, res.id, timeout, func(cl cluster) bool { return cl.Status == statusTerminatedUser }); err != nil {
		return fail("delete", err, raw)
	}
	res.del = time.Since(start)
	fmt.Fprintf(os.Stderr, "%s: Terminated(User) after %s\n", name, secs(res.del))
	return res, nil
}

// createBody is the create request: the fields of the seed's examples, as
// the end-to-end test sends them, without a user script.
func createBody(name string) map[string]any {
	return map[string]any{
		"name": name, "clusterType": "hadoop", "clusterVersion": "hde-2.0.1", "isHa": false, "workerCnt": workers,
		"vpcId": "3ebb3020-d416-f1a4-534c-d3ad0fa1bec0", "subnetId": "5c1632bf-a7da-fdbf-a594-e6a7bedb328c",
		"securityGroupName": "security-group-test", "keypairName": "keypairname", "monitoring": true,
		"masterFlavorName": flavor, "workerFlavorName": flavor, "masterVolumeSize": 50, "workerVolumeSize": 100,
		"config": map[string]any{"hdfsReplication": replication, "hdfsBlockSize": blockSizeMB},
	}
}

// --- HTTP -------------------------------------------------------------------

// createAccessKey creates an access key as the admin and returns its ID
// and private key.
func createAccessKey(ctx context.Context, hc *http.Client, base, password string) (id, secret string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/iam/createAccessKey", strings.NewReader("{}"))
	if err != nil {
		return "", "", fmt.Errorf("create access key: %w", err)
	}
	req.SetBasicAuth("admin", password)
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		AccessKey struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
		PrivateKey string `json:"privateKey"`
	}
	raw, err := do(hc, req)
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err == nil && (out.AccessKey.AccessKeyID == "" || out.PrivateKey == "") {
		err = fmt.Errorf("no key in the answer: %s", raw)
	}
	if err != nil {
		return "", "", fmt.Errorf("create access key: %w", err)
	}
	return out.AccessKey.AccessKeyID, out.PrivateKey, nil
}

// do sends req and returns the body of a 2xx answer; other answers are an
// error with the body.
func do(hc *http.Client, req *http.Request) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return raw, fmt.Errorf("server answered %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	return raw, nil
}

// cluster is the part of a Hadoop Eco cluster answer the bench reads.
type cluster struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	IsScalable bool   `json:"isScalable"`
	WorkerCnt  int    `json:"workerCnt"`
	Reason     string `json:"reason"`
}

// ecoClient calls the Hadoop Eco API with an access key.
type ecoClient struct {
	base       string
	hc         *http.Client
	id, secret string
	serverDone <-chan struct{}
}

// call sends in as JSON (when not nil) to the cluster path and decodes a
// 2xx answer; the raw answer comes back also with an error.
func (c *ecoClient) call(ctx context.Context, method, path string, in any) (cluster, []byte, error) {
	body := io.Reader(http.NoBody)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return cluster{}, nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+ecoPrefix+path, body)
	if err != nil {
		return cluster{}, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Credential-ID", c.id)
	req.Header.Set("Credential-Secret", c.secret)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	raw, err := do(c.hc, req)
	if err != nil {
		return cluster{}, raw, fmt.Errorf("%s %s%s: %w", method, ecoPrefix, path, err)
	}
	var cl cluster
	if err := json.Unmarshal(raw, &cl); err != nil {
		return cluster{}, raw, fmt.Errorf("%s %s%s: decode answer: %w", method, ecoPrefix, path, err)
	}
	return cl, raw, nil
}

func (c *ecoClient) get(ctx context.Context, id string) (cluster, []byte, error) {
	return c.call(ctx, http.MethodGet, "/"+id, nil)
}

// wait polls the cluster every pollEvery until done holds. It fails on a
// terminal status that done does not accept, an answer that is not 2xx,
// the server's exit, or after timeout.
func (c *ecoClient) wait(ctx context.Context, id string, timeout time.Duration, done func(cluster) bool) (cluster, []byte, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var last []byte
	for {
		cl, raw, err := c.get(ctx, id)
		if raw != nil {
			last = raw
		}
		switch {
		case err != nil:
			return cl, last, err
		case done(cl):
			return cl, raw, nil
		case strings.HasPrefix(cl.Status, "Terminated"):
			return cl, raw, fmt.Errorf("wait for cluster %s: it ended %s: %s", id, cl.Status, cl.Reason)
		case time.Now().After(deadline):
			return cl, raw, fmt.Errorf("wait for cluster %s: still %s (isScalable %t) after %s", id, cl.Status, cl.IsScalable, timeout)
		}
		select {
		case <-ctx.Done():
			return cl, raw, fmt.Errorf("wait for cluster %s: %w", id, ctx.Err())
		case <-c.serverDone:
			return cl, raw, fmt.Errorf("wait for cluster %s: the server exited", id)
		case <-tick.C:
		}
	}
}

// --- leftovers --------------------------------------------------------------

// proc is a process found under the data directory.
type proc struct {
	pid     int
	cmdline string
}

type procs []proc

// describe says what was killed.
func (ps procs) describe(dir string) string {
	if len(ps) == 0 {
		return "no process left under " + dir
	}
	var b strings.Builder
	fmt.Fprintf(&b, "killed %d processes left under %s:", len(ps), dir)
	for _, p := range ps {
		cmd := p.cmdline
		if len(cmd) > 160 {
			cmd = cmd[:160] + "..."
		}
		fmt.Fprintf(&b, "\n  %d %s", p.pid, cmd)
	}
	return b.String()
}

// killLeftovers kills (SIGKILL) every process but this one whose command
// line names a path under dir or whose working directory is under it,
// looking again until none is left, and returns those it killed.
func killLeftovers(dir string) procs {
	dirs := []string{dir}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
		dirs = append(dirs, real)
	}
	var killed procs
	for range 20 {
		found := under(dirs)
		if len(found) == 0 {
			break
		}
		for _, p := range found {
			if syscall.Kill(p.pid, syscall.SIGKILL) == nil && !slices.ContainsFunc(killed, func(k proc) bool { return k.pid == p.pid }) {
				killed = append(killed, p)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return killed
}

// under lists the processes whose command line or working directory is
// under one of dirs.
func under(dirs []string) procs {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found procs
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		raw, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		for _, d := range dirs {
			if strings.Contains(cmdline, d) || cwd == d || strings.HasPrefix(cwd, d+"/") {
				found = append(found, proc{pid: pid, cmdline: cmdline})
				break
			}
		}
	}
	return found
}

// --- the report -------------------------------------------------------------

type report struct {
	results   []result
	hadoop    string
	serverGo  string
	serverLog string
	left      string
}

// fromLog reads, for each run, the server's own account of the create:
// the time between its "cluster accepted" and "cluster running" lines.
func (r *report) fromLog(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	accepted := map[string]time.Time{}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, at := field(line, "cluster"), field(line, "time")
		t, err := time.Parse(time.RFC3339Nano, at)
		if name == "" || err != nil {
			continue
		}
		switch {
		case strings.Contains(line, `msg="cluster accepted"`):
			accepted[name] = t
		case strings.Contains(line, `msg="cluster running"`):
			for i := range r.results {
				if res := &r.results[i]; res.name == name && !accepted[name].IsZero() {
					res.serverCreate = t.Sub(accepted[name])
				}
			}
		}
	}
}

// field returns the value of key=value in a log line of slog's text
// format, for values without spaces.
func field(line, key string) string {
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// print writes the report and returns whether the medians met the
// targets.
func (r *report) print(w io.Writer) bool {
	fmt.Fprintln(w, "herd Hadoop Eco cluster bench")
	fmt.Fprintf(w, "machine:   %s; load average %s at the end\n", benchserver.Machine(), benchserver.LoadAvg())
	fmt.Fprintf(w, "go:        bench %s, server %s\n", runtime.Version(), r.serverGo)
	fmt.Fprintf(w, "hadoop:    %s (build/hadoop/VERSION)\n", r.hadoop)
	fmt.Fprintf(w, "cluster:   1 master + %d workers, %s, HDFS replication %d, block size %d MB, no user script;\n"+
		"           local host provider: each VM a herd agent process on 127.1.0.x with real HDFS and Spark daemons\n",
		workers, flavor, replication, blockSizeMB)
	fmt.Fprintf(w, "method:    %d %s, each a new cluster on one server (--local-agent=false); GET every %s\n",
		len(r.results), plural(len(r.results), "run"), pollEvery)

	for i, res := range r.results {
		fmt.Fprintf(w, "\nrun %d: cluster %s (id %s)\n", i+1, res.name, res.id)
		r.table(w, res)
	}
	med := result{
		create:       median(r.results, func(x result) time.Duration { return x.create }),
		installing:   median(r.results, func(x result) time.Duration { return x.installing }),
		scaleOut:     median(r.results, func(x result) time.Duration { return x.scaleOut }),
		del:          median(r.results, func(x result) time.Duration { return x.del }),
		serverCreate: median(r.results, func(x result) time.Duration { return x.serverCreate }),
	}
	fmt.Fprintf(w, "\nmedian of %d %s\n", len(r.results), plural(len(r.results), "run"))
	r.table(w, med)

	createOK, scaleOK := med.create < targetCreate, med.scaleOut < targetScale
	fmt.Fprintln(w)
	fmt.Fprintf(w, "target (a): create to Running %s < %s: %s (Herd/KakaoCloud %s = %.2f)\n",
		secs(med.create), target(targetCreate), verdict(createOK), target(kakaoCreate), med.create.Seconds()/kakaoCreate.Seconds())
	fmt.Fprintf(w, "target (b): scale-out to Running %s < %s: %s\n", secs(med.scaleOut), target(targetScale), verdict(scaleOK))
	fmt.Fprintf(w, "server log: %s\n", r.serverLog)
	fmt.Fprintf(w, "processes:  %s\n", r.left)
	fmt.Fprintf(w, "RESULT:     %s\n", verdict(createOK && scaleOK))
	return createOK && scaleOK
}

// table writes the phases of one run (or of the medians).
func (r *report) table(w io.Writer, res result) {
	var b bytes.Buffer
	defer func() {
		for line := range strings.Lines(b.String()) {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}()
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  phase\ttime\ttarget\t")
	fmt.Fprintf(tw, "  (a) create to Running, isScalable\t%s\t< %s\t%s, Herd/340 s = %.2f\n",
		secs(res.create), target(targetCreate), verdict(res.create < targetCreate), res.create.Seconds()/kakaoCreate.Seconds())
	if res.installing > 0 {
		fmt.Fprintf(tw, "      Initializing: VMs, agents registered\t%s\t\t\n", secs(res.installing))
		fmt.Fprintf(tw, "      Installing: HDFS, Spark started, GOOD\t%s\t\t\n", secs(res.create-res.installing))
	}
	if res.serverCreate > 0 {
		fmt.Fprintf(tw, "      server log: accepted to running\t%s\t\t\n", secs(res.serverCreate))
	}
	fmt.Fprintf(tw, "  (b) scale-out +1 to Running, isScalable\t%s\t< %s\t%s\n",
		secs(res.scaleOut), target(targetScale), verdict(res.scaleOut < targetScale))
	fmt.Fprintf(tw, "      delete to Terminated(User)\t%s\t\t\n", secs(res.del))
	_ = tw.Flush() // to a buffer
}

// median returns the median of f over the results; the mean of the middle
// two for an even count.
func median(results []result, f func(result) time.Duration) time.Duration {
	if len(results) == 0 {
		return 0
	}
	v := make([]time.Duration, 0, len(results))
	for _, r := range results {
		v = append(v, f(r))
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// target formats a target of whole seconds.
func target(d time.Duration) string { return fmt.Sprintf("%g s", d.Seconds()) }

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
