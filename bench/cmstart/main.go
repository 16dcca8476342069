// Command cmstart measures how long a new three-host cluster takes from the
// Cloudera Manager API's start command to every role GOOD: HDFS with a
// NameNode and three DataNodes, Spark with a master and two workers, as in
// the cluster manager's end-to-end test. Each run is a new server with
// three new host agents on 127.0.1.1-3 (each with its own data
// directory), so the NameNode is formatted on every run, as on a first
// start. It runs the server and the agents in-process (this binary is also
// the runner wrapper of the role processes) on the runtimes make setup
// installs.
//
//	make setup && go run ./bench/cmstart -runs 3
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
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herdhq/herd/bench/internal/benchserver"
	"github.com/herdhq/herd/internal/agent"
	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/hadooprt"
	"github.com/herdhq/herd/internal/runner"
)

const cluster = "/api/v19/clusters/bench"

func main() {
	runner.MaybeWrapper() // this binary wraps the role processes
	runs := flag.Int("runs", 3, "new clusters to start, one after the other")
	venv := flag.String("venv", ".venv", "the venv holding pyspark (make setup)")
	flag.Parse()
	if err := run(*runs, *venv); err != nil {
		log.Fatal(err)
	}
}

// timing is one run's figures, measured from the start command.
type timing struct {
	command, hdfs, spark, all time.Duration
}

func run(runs int, venv string) error {
	venv, _ = filepath.Abs(venv)
	hrt, err := hadooprt.Discover(context.Background(), hadooprt.Config{})
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs, %s/%s, %s; Hadoop %s; 3 hosts on 127.0.1.1-3\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), hrt.Version)
	fmt.Printf("%-4s %12s %10s %10s %10s\n", "run", "command (s)", "HDFS (s)", "Spark (s)", "all (s)")
	var all []float64
	for i := 1; i <= runs; i++ {
		t, err := once(hrt, venv)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		all = append(all, t.all.Seconds())
		fmt.Printf("%-4d %12.2f %10.2f %10.2f %10.2f\n", i, t.command.Seconds(), t.hdfs.Seconds(), t.spark.Seconds(), t.all.Seconds())
	}
	slices.Sort(all)
	fmt.Printf("\nstart command to all roles GOOD: median %.2f s, min %.2f s, max %.2f s (target < 60 s)\n",
		all[len(all)/2], all[0], all[len(all)-1])
	return nil
}

// once starts a server and three agents, builds and starts the cluster,
// and stops everything again.
func once(hrt hadooprt.Runtime, venv string) (timing, error) {
	tmp, err := os.MkdirTemp("", "herd-bench-cm-")
	if err != nil {
		return timing{}, err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // a temporary directory
	cfg := config.Default()
	cfg.DataDir = filepath.Join(tmp, "server")
	cfg.SparkVenv = venv
	cfg.LocalAgent = false
	srv, err := benchserver.StartInProcess(cfg)
	if err != nil {
		return timing{}, err
	}
	c := &client{base: srv.URL, pw: srv.Password}

	var tok struct{ Token string }
	if err := c.do("POST", "/herd/v1/host-tokens", map[string]string{"description": "bench"}, &tok); err != nil {
		_ = srv.Stop()
		return timing{}, err
	}
	exe, _ := os.Executable()
	agentCtx, stopAgents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		a, err := agent.New(agent.Config{ServerURL: c.base, Token: tok.Token, Address: fmt.Sprintf("127.0.1.%d", i),
			Hostname: fmt.Sprintf("h%d", i), DataDir: filepath.Join(tmp, fmt.Sprintf("h%d", i)), Executable: exe,
			HadoopHome: hrt.Home, SparkVenv: venv})
		if err != nil {
			stopAgents()
			wg.Wait()
			_ = srv.Stop()
			return timing{}, err
		}
		wg.Go(func() { _ = a.Run(agentCtx) })
	}
	defer func() {
		// Stop the roles through the API, then the agents, then the server.
		var cmd command
		if err := c.do("POST", cluster+"/commands/stop", nil, &cmd); err == nil {
			_ = c.wait(cmd.ID, 2*time.Minute)
		}
		stopAgents()
		wg.Wait()
		if err := srv.Stop(); err != nil {
			log.Print(err)
		}
	}()

	hosts, err := c.hosts(3, time.Minute)
	if err != nil {
		return timing{}, err
	}
	if err := c.build(hosts); err != nil {
		return timing{}, err
	}
	start := time.Now()
	var cmd command
	if err := c.do("POST", cluster+"/commands/start", nil, &cmd); err != nil {
		return timing{}, err
	}
	var t timing
	for deadline := start.Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return timing{}, errors.New("not all roles GOOD within 5 minutes")
		}
		if t.command == 0 {
			var cur command
			if err := c.do("GET", fmt.Sprintf("/api/v19/commands/%d", cmd.ID), nil, &cur); err != nil {
				return timing{}, err
			}
			if !cur.Active {
				if !cur.Success {
					return timing{}, fmt.Errorf("start command failed: %s", cur.ResultMessage)
				}
				t.command = time.Since(start)
			}
		}
		for _, s := range []struct {
			name string
			at   *time.Duration
		}{{"HDFS-1", &t.hdfs}, {"SPARK-1", &t.spark}} {
			if *s.at != 0 {
				continue
			}
			good, err := c.allGood(s.name)
			if err != nil {
				return timing{}, err
			}
			if good {
				*s.at = time.Since(start)
			}
		}
		if t.command != 0 && t.hdfs != 0 && t.spark != 0 {
			t.all = max(t.command, t.hdfs, t.spark)
			return t, nil
		}
	}
}

type client struct {
	base, pw string
	http     http.Client
}

type command struct {
	ID            int64  `json:"id"`
	Active        bool   `json:"active"`
	Success       bool   `json:"success"`
	ResultMessage string `json:"resultMessage"`
}

func (c *client) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", c.pw)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// hosts waits for n registered hosts and returns their ids by address.
func (c *client) hosts(n int, timeout time.Duration) ([]string, error) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var list struct {
			Items []struct{ HostID, IPAddress string }
		}
		if err := c.do("GET", "/api/v19/hosts", nil, &list); err != nil {
			return nil, err
		}
		if len(list.Items) == n {
			slices.SortFunc(list.Items, func(a, b struct{ HostID, IPAddress string }) int { return strings.Compare(a.IPAddress, b.IPAddress) })
			ids := make([]string, n)
			for i, h := range list.Items {
				ids[i] = h.HostID
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("%d hosts did not register within %s", n, timeout)
}

// build creates the cluster: HDFS (NameNode and a DataNode on the first
// host, DataNodes on the others) and Spark (master on the first host,
// workers on the others).
func (c *client) build(h []string) error {
	items := func(v ...any) map[string]any { return map[string]any{"items": v} }
	role := func(name, typ, host string) map[string]any {
		return map[string]any{"name": name, "type": typ, "hostRef": map[string]string{"hostId": host}}
	}
	steps := []struct {
		path string
		body any
	}{
		{"/api/v19/clusters", items(map[string]string{"name": "bench", "fullVersion": "7.1.9"})},
		{cluster + "/hosts", items(map[string]string{"hostId": h[0]}, map[string]string{"hostId": h[1]}, map[string]string{"hostId": h[2]})},
		{cluster + "/services", items(map[string]string{"name": "HDFS-1", "type": "HDFS"}, map[string]string{"name": "SPARK-1", "type": "SPARK"})},
		{cluster + "/services/HDFS-1/roles", items(role("NN", "NAMENODE", h[0]), role("DN-1", "DATANODE", h[0]),
			role("DN-2", "DATANODE", h[1]), role("DN-3", "DATANODE", h[2]))},
		{cluster + "/services/SPARK-1/roles", items(role("MASTER", "MASTER", h[0]), role("WORKER-1", "WORKER", h[1]), role("WORKER-2", "WORKER", h[2]))},
	}
	for _, s := range steps {
		if err := c.do("POST", s.path, s.body, nil); err != nil {
			return err
		}
	}
	return nil
}

// allGood reports whether a service and every one of its roles is GOOD.
func (c *client) allGood(service string) (bool, error) {
	var svc struct{ HealthSummary string }
	if err := c.do("GET", cluster+"/services/"+service, nil, &svc); err != nil {
		return false, err
	}
	if svc.HealthSummary != "GOOD" {
		return false, nil
	}
	var roles struct {
		Items []struct{ HealthSummary string }
	}
	if err := c.do("GET", cluster+"/services/"+service+"/roles", nil, &roles); err != nil {
		return false, err
	}
	for _, r := range roles.Items {
		if r.HealthSummary != "GOOD" {
			return false, nil
		}
	}
	return len(roles.Items) > 0, nil
}

// wait polls a command until it ends.
func (c *client) wait(id int64, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var cur command
		if err := c.do("GET", fmt.Sprintf("/api/v19/commands/%d", id), nil, &cur); err != nil {
			return err
		}
		if !cur.Active {
			return nil
		}
	}
	return fmt.Errorf("command %d did not end within %s", id, timeout)
}
