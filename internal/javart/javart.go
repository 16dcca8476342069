package javart

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Java is a found Java runtime.
type Java struct {
	Path    string // absolute path of the java binary
	Home    string // JAVA_HOME, when known
	Version int    // major version
}

// Find looks in JAVA_HOME, then on PATH, and checks that the major version
// is at least min; what names the software that needs it in errors (e.g.
// "Spark").
func Find(ctx context.Context, getenv func(string) string, min int, what string) (Java, error) {
	var j Java
	var err error
	if h := getenv("JAVA_HOME"); h != "" && IsExecutable(filepath.Join(h, "bin", "java")) {
		j.Path, j.Home = filepath.Join(h, "bin", "java"), h
	} else if j.Path, err = exec.LookPath("java"); err != nil {
		return Java{}, fmt.Errorf("no java: %s needs Java %d or newer on PATH or in JAVA_HOME", what, min)
	}
	if j.Path, err = filepath.Abs(j.Path); err != nil {
		return Java{}, fmt.Errorf("resolve java: %w", err)
	}
	if j.Home == "" {
		// /usr/bin/java is usually a chain of links to <JAVA_HOME>/bin/java.
		if real, err := filepath.EvalSymlinks(j.Path); err == nil && filepath.Base(filepath.Dir(real)) == "bin" {
			j.Home = filepath.Dir(filepath.Dir(real))
		}
	}
	out, err := exec.CommandContext(ctx, j.Path, "-version").CombinedOutput()
	if err != nil {
		return Java{}, fmt.Errorf("run %s -version: %w: %s", j.Path, err, strings.TrimSpace(string(out)))
	}
	j.Version = ParseVersion(string(out))
	if j.Version < min {
		return Java{}, fmt.Errorf("%s needs Java %d or newer; %s is: %s", what, min, j.Path, FirstLine(string(out)))
	}
	return j, nil
}

var versionRE = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// ParseVersion reads the major version of `java -version` output:
// "17.0.15" is 17, the old "1.8.0_392" is 8.
func ParseVersion(out string) int {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major
}

// FirstLine is the first non-blank line of s.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// IsExecutable reports whether p is an executable regular file.
func IsExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}
