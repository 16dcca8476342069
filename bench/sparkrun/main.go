// Command sparkrun measures what running a Spark job through Herd adds to
// running it with spark-submit: the same SparkPi application (a) started
// by bare spark-submit and (b) started with POST /jobs/{name}/run and
// polled with GET /job-runs/{id} until it has succeeded, in interleaved
// pairs, after one warm-up pair. It runs a real server in-process (this
// binary is also the runs' wrapper) on the runtime make setup installs.
//
//	make setup && go run ./bench/sparkrun -pairs 7
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/herdhq/herd/bench/internal/benchserver"
	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/sparkrt"
)

const (
	class    = "org.herd.examples.SparkPi"
	piSlices = "4"
)

func main() {
	runner.MaybeWrapper() // this binary wraps the runs it starts
	pairs := flag.Int("pairs", 7, "measured pairs (after one warm-up pair)")
	venv := flag.String("venv", ".venv", "the venv holding pyspark (make setup)")
	jar := flag.String("jar", "build/spark-examples.jar", "the example jar (make setup)")
	poll := flag.Duration("poll", 50*time.Millisecond, "how often the API client polls the run")
	conf := map[string]string{}
	flag.Func("conf", "a Spark property key=value for the job (repeatable), e.g. spark.eventLog.enabled=false", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return errors.New("want key=value")
		}
		conf[k] = v
		return nil
	})
	flag.Parse()
	if err := run(*pairs, *venv, *jar, *poll, conf); err != nil {
		log.Fatal(err)
	}
}

func run(pairs int, venv, jar string, poll time.Duration, conf map[string]string) error {
	venv, _ = filepath.Abs(venv)
	jarBytes, err := os.ReadFile(jar)
	if err != nil {
		return fmt.Errorf("read the example jar (run make setup): %w", err)
	}
	rt, err := sparkrt.Discover(context.Background(), sparkrt.Config{Venv: venv})
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "herd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // a temporary directory
	jarPath := filepath.Join(tmp, "spark-examples.jar")
	if err := os.WriteFile(jarPath, jarBytes, 0o600); err != nil {
		return err
	}

	cfg := config.Default()
	cfg.DataDir = filepath.Join(tmp, "data")
	cfg.SparkVenv = venv
	srv, err := benchserver.StartInProcess(cfg)
	if err != nil {
		return err
	}
	defer srv.Stop() //nolint:errcheck // stopped and checked at the end; this is for early returns
	c := &client{base: srv.URL, poll: poll}
	if c.token, err = c.getToken(srv.Password); err != nil {
		return err
	}
	if err := c.setUp(jarBytes, conf); err != nil {
		return err
	}

	fmt.Printf("machine: %d CPUs, %s/%s, %s; Spark %s, Java %d; master local[*]\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), rt.SparkVersion, rt.JavaVersion)
	fmt.Printf("job conf: %v\n", conf)
	fmt.Printf("SparkPi with %s slices; %d pairs after a warm-up pair, interleaved (bare first in odd pairs)\n\n", piSlices, pairs)
	fmt.Printf("%-6s %10s %10s %12s\n", "pair", "bare (s)", "API (s)", "Herd's (s)")
	var bare, viaAPI, herd []float64
	for i := 0; i <= pairs; i++ {
		var a, b, own time.Duration
		first, second := func() error { a, err = bareRun(rt, jarPath, tmp); return err }, func() error { b, own, err = c.apiRun(); return err }
		if i%2 == 0 { // alternate the order, so that neither always runs on a warmer machine
			first, second = second, first
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		label := fmt.Sprint(i)
		if i == 0 {
			label = "warmup"
		} else {
			bare, viaAPI, herd = append(bare, a.Seconds()), append(viaAPI, b.Seconds()), append(herd, own.Seconds())
		}
		fmt.Printf("%-6s %10.3f %10.3f %12.3f\n", label, a.Seconds(), b.Seconds(), own.Seconds())
	}
	ma, mb := median(bare), median(viaAPI)
	fmt.Printf("\nmedian: bare %.3f s, API %.3f s; ratio API/bare %.3f; added %.3f s\n", ma, mb, mb/ma, mb-ma)
	fmt.Printf("median of Herd's own share (API time minus the life of the run's process): %.3f s\n", median(herd))
	return srv.Stop()
}

// bareRun runs SparkPi with spark-submit as a user would by hand, with
// the sizes Herd gives the job (its defaults), and returns the wall time.
func bareRun(rt sparkrt.Runtime, jar, tmp string) (time.Duration, error) {
	cmd := exec.Command(rt.SparkSubmit(), "--master", "local[*]", "--deploy-mode", "client", "--name", "pi", "--class", class,
		"--driver-cores", "1", "--driver-memory", "1g", "--executor-cores", "1", "--executor-memory", "1g", jar, piSlices)
	cmd.Env = append(os.Environ(), "SPARK_HOME="+rt.Home, "SPARK_LOCAL_IP=127.0.0.1")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("bare spark-submit: %w\n%s", err, out.String())
	}
	d := time.Since(start)
	if !strings.Contains(out.String(), "Pi is roughly") {
		return 0, fmt.Errorf("bare spark-submit printed no result:\n%s", out.String())
	}
	return d, nil
}

type client struct {
	base, token string
	poll        time.Duration
	http        http.Client
}

func (c *client) getToken(pw string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, c.base+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
	req.SetBasicAuth("admin", pw)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(req, http.StatusOK, &tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

func (c *client) do(req *http.Request, want int, out any) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *client) call(method, path, contentType string, body io.Reader, want int, out any) error {
	req, err := http.NewRequest(method, c.base+"/dex/api/v1"+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.do(req, want, out)
}

// setUp uploads the jar into a files resource and creates the job.
func (c *client) setUp(jar []byte, conf map[string]string) error {
	if err := c.call(http.MethodPost, "/resources", "application/json", strings.NewReader(`{"name": "examples"}`), http.StatusCreated, nil); err != nil {
		return err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\nContent-Type: application/octet-stream\r\n\r\n")
	buf.Write(jar)
	buf.WriteString("\r\n--b--\r\n")
	if err := c.call(http.MethodPut, "/resources/examples/spark-examples.jar", "multipart/form-data; boundary=b", &buf, http.StatusCreated, nil); err != nil {
		return err
	}
	job, err := json.Marshal(map[string]any{
		"name": "pi", "type": "spark", "mounts": []map[string]string{{"resourceName": "examples"}},
		"spark": map[string]any{"file": "spark-examples.jar", "className": class, "args": []string{piSlices}, "conf": conf},
	})
	if err != nil {
		return err
	}
	return c.call(http.MethodPost, "/jobs", "application/json", bytes.NewReader(job), http.StatusCreated, nil)
}

// apiRun starts the job and polls it until it has succeeded, as a CDE
// client does. It returns the time from the POST to seeing succeeded, and
// the part of it that is Herd's own: that time minus the life of the
// run's process, as the run's submitter log records it.
func (c *client) apiRun() (total, own time.Duration, err error) {
	start := time.Now()
	var created struct {
		ID int64 `json:"id"`
	}
	if err := c.call(http.MethodPost, "/jobs/pi/run", "", nil, http.StatusCreated, &created); err != nil {
		return 0, 0, err
	}
	for {
		var r struct {
			Status       string `json:"status"`
			StatusReason string `json:"statusReason"`
		}
		if err := c.call(http.MethodGet, fmt.Sprintf("/job-runs/%d", created.ID), "", nil, http.StatusOK, &r); err != nil {
			return 0, 0, err
		}
		switch r.Status {
		case "succeeded":
			total = time.Since(start)
			life, err := c.processLife(created.ID)
			return total, total - life, err
		case "failed", "killed", "unknown":
			return 0, 0, errors.New("run " + r.Status + ": " + r.StatusReason)
		}
		time.Sleep(c.poll)
	}
}

// processLife reads, from a run's submitter log, the time from its
// process's start to its recorded end.
func (c *client) processLife(id int64) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/dex/api/v1/job-runs/%d/logs?type=submitter%%2Fjobs_api", c.base, id), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var started, ended time.Time
	for _, line := range strings.Split(string(b), "\n") {
		stamp, rest, _ := strings.Cut(line, " ")
		t, err := time.Parse(time.RFC3339Nano, stamp)
		switch {
		case err != nil:
		case strings.HasPrefix(rest, "started: process"):
			started = t
		case strings.HasPrefix(rest, "run ended:"):
			ended = t
		}
	}
	if started.IsZero() || ended.IsZero() {
		return 0, fmt.Errorf("run %d: no start or end in its submitter log:\n%s", id, b)
	}
	return ended.Sub(started), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
