package sparkrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
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
	var err error
	rt.Java, rt.JavaHome, rt.JavaVersion, err = findJava(ctx, c.Getenv)
	if err != nil {
		return Runtime{}, err
	}
	python := c.Python
	if python != "" && strings.ContainsRune(python, filepath.Separator) {
		python, _ = filepath.Abs(python) // runs have their own working directories
	}
	if c.Venv != "" {
		c.Venv, _ = filepath.Abs(c.Venv)
	}
	if python == "" && c.Venv != "" {
		if p := filepath.Join(c.Venv, "bin", "python"); isExecutable(p) {
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
	if !isExecutable(rt.SparkSubmit()) {
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

func isExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// findJava looks in JAVA_HOME, then on PATH, and checks the version.
func findJava(ctx context.Context, getenv func(string) string) (java, home string, version int, err error) {
	if h := getenv("JAVA_HOME"); h != "" && isExecutable(filepath.Join(h, "bin", "java")) {
		java, home = filepath.Join(h, "bin", "java"), h
	} else if java, err = exec.LookPath("java"); err != nil {
		return "", "", 0, fmt.Errorf("no java: Spark needs Java %d or newer on PATH or in JAVA_HOME", MinJava)
	}
	out, err := exec.CommandContext(ctx, java, "-version").CombinedOutput()
	if err != nil {
		return "", "", 0, fmt.Errorf("run %s -version: %w: %s", java, err, strings.TrimSpace(string(out)))
	}
	version = parseJavaVersion(string(out))
	if version < MinJava {
		return "", "", 0, fmt.Errorf("the Spark runtime needs Java %d or newer; %s is: %s", MinJava, java, firstLine(string(out)))
	}
	return java, home, version, nil
}

var javaVersionRE = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// parseJavaVersion reads the major version of `java -version` output:
// "17.0.15" is 17, the old "1.8.0_392" is 8.
func parseJavaVersion(out string) int {
	m := javaVersionRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// pysparkOf asks a Python where its pyspark package is.
func pysparkOf(ctx context.Context, python string) (home, site, version string, err error) {
	out, err := exec.CommandContext(ctx, python, "-c",
		"import os, pyspark; print(os.path.dirname(pyspark.__file__)); print(pyspark.__version__)").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", "", "", fmt.Errorf("%s", firstLine(string(ee.Stderr)))
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
