package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/store"
)

// More resource statuses: a python-env is pending-build until it has a
// requirements.txt, building while pip runs, then ready or build-failed.
const (
	StatusBuilding    = "building"
	StatusBuildFailed = "build-failed"
)

// waitingReason is the state of a python-env without a requirements.txt.
const waitingReason = "waiting for " + RequirementsFile

// buildTimeout bounds one pip install.
const buildTimeout = 30 * time.Minute

// Build is the state of a python-env's build, kept on the resource.
type Build struct {
	Signature            string  `json:"signature,omitempty"` // of the requirements.txt built
	Venv                 string  `json:"venv,omitempty"`
	StatusReason         string  `json:"statusReason,omitempty"`
	SizeMB               float64 `json:"sizeMb,omitempty"`
	BuildDurationSeconds float64 `json:"buildDurationSeconds,omitempty"`
	NumberOfPackages     int     `json:"numberOfPackages,omitempty"`
	NumberOfFiles        int     `json:"numberOfFiles,omitempty"` // in the environment
	Log                  string  `json:"log,omitempty"`           // the build log's file
}

func decodeBuild(s string) Build {
	var b Build
	_ = json.Unmarshal([]byte(s), &b) // an unreadable build is an empty one
	return b
}

// buildLoop builds the python-env resources that wait for a build, one at
// a time, whenever woken and every few seconds; builds cut short by a
// restart are done again.
func (s *Service) buildLoop(ctx context.Context) {
	every(ctx, 5*time.Second, s.buildWake, func() {
		rows, err := s.db.Read().ResourcesBuilding(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("list python environments to build", "err", err)
		}
		for _, r := range rows {
			if ctx.Err() != nil {
				return
			}
			s.build(ctx, r)
		}
	})
}

// pyenvDir holds the builds of a python-env resource, one per
// requirements.txt signature.
func (s *Service) pyenvDir(vc, name string) string {
	return filepath.Join(s.cfg.DataDir, "pyenvs", vc, name)
}

func (s *Service) wakeBuilder() {
	select {
	case s.buildWake <- struct{}{}:
	default:
	}
}

// build makes the virtual environment of a python-env resource from its
// requirements.txt, with the runtime's Python, and records the outcome.
func (s *Service) build(ctx context.Context, r store.ResourceRow) {
	f, err := s.db.Read().GetResourceFile(ctx, r.VCID, r.Name, RequirementsFile)
	if errors.Is(err, store.ErrNotFound) {
		if decodeBuild(r.Build).StatusReason != waitingReason {
			s.setBuild(ctx, r, StatusPendingBuild, Build{StatusReason: waitingReason})
		}
		return
	}
	if err != nil {
		s.log.Warn("read requirements of a python environment", "resource", r.Name, "err", err)
		return
	}
	rt, err := s.cfg.Runtime()
	if err != nil {
		s.setBuild(ctx, r, StatusBuildFailed, Build{Signature: f.SHA1, StatusReason: "no Spark runtime to build with: " + err.Error()})
		return
	}
	dir := filepath.Join(s.pyenvDir(r.VCID, r.Name), f.SHA1)
	logPath := dir + ".log"
	s.setBuild(ctx, r, StatusBuilding, Build{Signature: f.SHA1, StatusReason: "building", Log: logPath})
	s.log.Info("building python environment", "vc", r.VCID, "resource", r.Name)
	start := time.Now()
	req, err := s.blobs.Path(f.BlobID)
	if err == nil {
		err = buildVenv(ctx, rt.Python, rt.SitePackages, dir, req, logPath)
	}
	b := Build{Signature: f.SHA1, Log: logPath, BuildDurationSeconds: time.Since(start).Round(time.Millisecond).Seconds()}
	if err != nil {
		if ctx.Err() != nil {
			return // the server stops: built again at the next start
		}
		b.StatusReason = "build failed: " + err.Error() + "\n" + tail(logPath, 15)
		s.setBuild(ctx, r, StatusBuildFailed, b)
		s.log.Warn("python environment failed to build", "resource", r.Name, "err", err)
		return
	}
	b.Venv, b.StatusReason = dir, "ready"
	b.SizeMB, b.NumberOfFiles, b.NumberOfPackages = venvStats(dir)
	s.setBuild(ctx, r, StatusReady, b)
	s.log.Info("python environment built", "resource", r.Name, "seconds", b.BuildDurationSeconds)
	s.dispatch.wake()
}

// setBuild records a build's state unless requirements.txt changed since.
func (s *Service) setBuild(ctx context.Context, r store.ResourceRow, status string, b Build) {
	doc, _ := json.Marshal(b) //nolint:errchkjson // plain fields
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if b.Signature != "" {
			f, err := q.GetResourceFile(ctx, r.VCID, r.Name, RequirementsFile)
			if err != nil || f.SHA1 != b.Signature {
				return nil // changed or gone: the next round builds the new one
			}
		}
		return q.SetResourceBuild(ctx, r.VCID, r.Name, status, string(doc))
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("record python environment build", "resource", r.Name, "err", err)
	}
}

// buildVenv creates a venv at dir with python, installs the requirements
// into it, and makes the runtime's packages (pyspark) visible in it.
func buildVenv(ctx context.Context, python, sitePackages, dir, requirements, logPath string) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	run := func(name string, args ...string) error {
		fmt.Fprintf(logf, "$ %s %s\n", name, strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(buildEnv(os.Environ()), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PYTHONNOUSERSITE=1")
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		return nil
	}
	if err := run(python, "-m", "venv", dir); err != nil {
		return err
	}
	if err := run(filepath.Join(dir, "bin", "python"), "-m", "pip", "install", "--no-input", "-r", requirements); err != nil {
		return err
	}
	site, err := venvSitePackages(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(site, "herd-spark-runtime.pth"), []byte(sitePackages+"\n"), 0o600)
}

// buildEnv is the server's environment (pip's proxy, index and
// certificate settings) without Herd's own variables, HERD_MASTER_KEY
// above all.
func buildEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "HERD_") {
			out = append(out, kv)
		}
	}
	return out
}

func venvSitePackages(dir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "lib", "python*", "site-packages"))
	if len(matches) != 1 {
		return "", fmt.Errorf("no site-packages in the venv %s", dir)
	}
	return matches[0], nil
}

// venvStats returns a venv's size in MB, its number of files and the
// number of packages in it.
func venvStats(dir string) (sizeMB float64, files, packages int) {
	var size int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	site, _ := venvSitePackages(dir)
	dists, _ := filepath.Glob(filepath.Join(site, "*.dist-info"))
	return float64(size*10/(1<<20)) / 10, files, len(dists)
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// BuildLog returns the log of a python-env's last build.
func (s *Service) BuildLog(ctx context.Context, vc, name string) ([]byte, error) {
	r, err := s.db.Read().GetResource(ctx, vc, name)
	if err != nil {
		return nil, notFound(err, "resource", name)
	}
	b := decodeBuild(r.Build)
	if r.Type != ResourcePythonEnv || b.Log == "" {
		return nil, notFound(store.ErrNotFound, "build log of resource", name)
	}
	return os.ReadFile(b.Log)
}
