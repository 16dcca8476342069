// Command cdejobs measures the CDE jobs API with many jobs in the store:
// the throughput of POST /jobs while it fills the store, then the latency
// (p50, p99) of GET /jobs?limit=20 with filters and an orderby. It runs a
// real server in-process on a loopback port and talks HTTP to it.
//
//	go run ./bench/cdejobs -jobs 100000
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herdhq/herd/bench/internal/benchserver"
	"github.com/herdhq/herd/internal/config"
)

func main() {
	jobs := flag.Int("jobs", 100000, "jobs to create")
	clients := flag.Int("clients", 4, "concurrent clients creating jobs")
	queries := flag.Int("queries", 1000, "GET requests per query shape")
	keep := flag.String("data-dir", "", "data directory to use (default: a temporary one, removed after)")
	flag.Parse()
	if err := run(*jobs, *clients, *queries, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(jobs, clients, queries int, dataDir string) error {
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "herd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir) //nolint:errcheck // a temporary directory
		dataDir = filepath.Join(dir, "data")
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	srv, err := benchserver.StartInProcess(cfg)
	if err != nil {
		return err
	}
	defer srv.Stop() //nolint:errcheck // stopped and checked below; this is for early returns
	base := srv.URL
	token, err := getToken(base, srv.Password)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients + 1}}
	api := base + "/dex/api/v1"

	fmt.Printf("machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Printf("creating %d jobs with %d clients...\n", jobs, clients)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= jobs {
					return
				}
				if err := send(client, http.MethodPost, api+"/jobs", token, jobBody(i), http.StatusCreated); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("\nPOST /jobs: %d jobs in %s = %.0f creates/s\n\n", jobs, elapsed.Round(time.Millisecond), float64(jobs)/elapsed.Seconds())

	// Restart, as a long-running server would be by now: its start (and its
	// minute-by-minute maintenance) brings the planner statistics up to date.
	if err := srv.Stop(); err != nil {
		return err
	}
	restarted, err := benchserver.StartInProcess(cfg)
	if err != nil {
		return err
	}
	defer restarted.Stop() //nolint:errcheck // stopped and checked below; this is for early returns
	api = restarted.URL + "/dex/api/v1"

	shapes := []string{
		"filter=type%5Beq%5Dspark&orderby=created&orderasc=false",
		"filter=name%5Blike%5Detl-0042%25&orderby=name",
		"filter=created%5Bgte%5D2026-01-01&orderby=modified&orderasc=false",
		"filter=spark.executorCores%5Blt%5D2&orderby=name",
		"filter=spark.executorMemory%5Beq%5D4g&filter=spark.driverMemory%5Beq%5D2g&orderby=created",
		"filter=spark.conf.spark.dynamicAllocation.enabled%5Beq%5Dtrue&orderby=name",
	}
	// warm: the same list again and again (counts come from the cache);
	// cold: a job changes before each list, so every count is computed.
	fmt.Printf("%-100s %5s %9s %9s %9s %8s\n", "GET /jobs?limit=20&...", "mode", "p50", "p99", "max", "count")
	for _, q := range shapes {
		for _, cold := range []bool{false, true} {
			lat := make([]time.Duration, 0, queries)
			var count int
			for i := range queries + 5 {
				if cold {
					if err := send(client, http.MethodPatch, api+"/jobs/etl-000000", token, fmt.Appendf(nil, `{"defaultVariables":{"i":"%d"}}`, i), http.StatusOK); err != nil {
						return err
					}
				}
				t0 := time.Now()
				n, err := get(client, api+"/jobs?limit=20&"+q, token)
				d := time.Since(t0)
				if err != nil {
					return err
				}
				if i >= 5 { // warm-up excluded
					lat = append(lat, d)
				}
				count = n
			}
			slices.Sort(lat)
			mode := "warm"
			if cold {
				mode = "cold"
			}
			fmt.Printf("%-100s %5s %9s %9s %9s %8d\n", q, mode, pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond), count)
		}
	}
	return restarted.Stop()
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(time.Microsecond)
}

// jobBody is a realistic job: mounts-free Spark jobs whose fields vary so
// that filters select different shares of them.
func jobBody(i int) []byte {
	kind := []string{"etl", "report", "ml", "ingest"}[i%4]
	conf := fmt.Sprintf(`{"spark.dynamicAllocation.enabled":"%t","spark.sql.shuffle.partitions":"%d"}`, i%3 == 0, 100+i%50)
	return fmt.Appendf(nil, `{"name":"%s-%06d","type":"spark","spark":{"file":"local:/opt/app/%s.py","args":["--day","%d"],`+
		`"conf":%s,"driverMemory":"%s","executorCores":%d,"executorMemory":"4g","numExecutors":%d,"logLevel":"INFO"}}`,
		kind, i, kind, i%365, conf, []string{"1g", "2g"}[i%2], 1+i%4, 1+i%8)
}

func getToken(base, pw string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
	req.SetBasicAuth("admin", pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return "", err
	}
	return tr.AccessToken, nil
}

// send makes a JSON request and wants the given status.
func send(c *http.Client, method, url, token string, body []byte, want int) error {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return nil
}

func get(c *http.Client, url, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Meta struct {
			Count int `json:"count"`
		} `json:"meta"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("GET: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	return out.Meta.Count, nil
}
