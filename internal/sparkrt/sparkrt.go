package sparkrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/javart"
)

// MinJava is the oldest Java Spark 4 runs on.
const MinJava = 17

// Runtime is a usable Spark installation.
type Runtime struct {
	Home         string // SPARK_HOME: has bin/spark-submit and jars/
	Python       string // a Python that imports pyspark (PYSPARK_PYTHON of runs)
	SitePackages string // the directory that holds the pyspark package, for other Pythons' paths
	Java         string // the java binary
	JavaHome     string // JAVA_HOME for runs, when known
	JavaVersion  int
	SparkVersion string
}

// SparkSubmit is the path of spark-submit.
func (r Runtime) SparkSubmit() string { return filepath.Join(r.Home, "bin", "spark-submit") }

// Config says where to look.
type Config struct {
	SparkHome string              // explicit SPARK_HOME (--spark-home)
	Python    string              // explicit Python (--spark-python)
	Venv      string              // the project's virtual environment, e.g. ./.venv
	Getenv    func(string) string // os.Getenv when nil
}

// Discover finds the runtime, or explains what is missing.
func Discover(ctx context.Context, c Config) (Runtime, error) {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rt Runtime
	j, err := javart.Find(ctx, c.Getenv, MinJava, "Spark")
	if err != nil {
		return Runtime{}, err
	}
	rt.Java, rt.JavaHome, rt.JavaVersion = j.Path, j.Home, j.Version
	python := c.Python
	if python != "" && strings.ContainsRune(python, filepath.Separator) {
		python, _ = filepath.Abs(python) // runs have their own working directories
	}
	if c.Venv != "" {
		c.Venv, _ = filepath.Abs(c.Venv)
	}
	if python == "" && c.Venv != "" {
		if p := filepath.Join(c.Venv, "bin", "python"); javart.IsExecutable(p) {
			python = p
		}
	}
	if python != "" {
		home, site, version, perr := pysparkOf(ctx, python)
		switch {
		case perr == nil && c.SparkHome == "":
			rt.Home, rt.SitePackages, rt.SparkVersion, rt.Python = home, site, version, python
		case perr == nil:
			rt.SitePackages, rt.SparkVersion, rt.Python = site, version, python
		case c.Python != "":
			return Runtime{}, fmt.Errorf("the configured Python %s cannot import pyspark: %w", python, perr)
		}
	}
	if rt.Home == "" {
		rt.Home = c.SparkHome
	}
	if rt.Home == "" {
		rt.Home = c.Getenv("SPARK_HOME")
	}
	if rt.Home == "" {
		return Runtime{}, errors.New("no Spark runtime: run 'make setup' (it installs pyspark into .venv), " +
			"or set --spark-home (HERD_SPARK_HOME) or SPARK_HOME to a Spark installation")
	}
	rt.Home, _ = filepath.Abs(rt.Home)
	if !javart.IsExecutable(rt.SparkSubmit()) {
		return Runtime{}, fmt.Errorf("the Spark home %s has no executable bin/spark-submit", rt.Home)
	}
	if rt.SparkVersion == "" {
		rt.SparkVersion = versionFromJars(rt.Home)
	}
	if rt.Python == "" {
		if p, err := exec.LookPath("python3"); err == nil {
			rt.Python = p // PySpark jobs need pyspark importable; SPARK_HOME/python provides it in a full distribution
		}
	}
	return rt, nil
}

// pysparkOf asks a Python where its pyspark package is.
func pysparkOf(ctx context.Context, python string) (home, site, version string, err error) {
	out, err := exec.CommandContext(ctx, python, "-c",
		"import os, pyspark; print(os.path.dirname(pyspark.__file__)); print(pyspark.__version__)").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", "", "", fmt.Errorf("%s", javart.FirstLine(string(ee.Stderr)))
		}
		return "", "", "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return "", "", "", fmt.Errorf("unexpected answer %q", out)
	}
	return lines[0], filepath.Dir(lines[0]), lines[1], nil
}

var sparkCoreRE = regexp.MustCompile(`^spark-core_[0-9.]+-(.+)\.jar$`)

func versionFromJars(home string) string {
	entries, _ := os.ReadDir(filepath.Join(home, "jars"))
	for _, e := range entries {
		if m := sparkCoreRE.FindStringSubmatch(e.Name()); m != nil {
			return m[1]
		}
	}
	return ""
}
