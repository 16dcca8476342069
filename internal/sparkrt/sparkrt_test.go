package sparkrt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/javart"
)

// The project venv made by make setup is found; without any runtime the
// error says what to do.
func TestDiscover(t *testing.T) {
	venv := "../../.venv" // relative, as the default --spark-venv
	if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatal("no .venv: run make setup")
		}
		t.Skip("no .venv: run make setup")
	}
	rt, err := Discover(context.Background(), Config{Venv: venv, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if rt.JavaVersion < MinJava || !strings.HasPrefix(rt.SparkVersion, "4.") || !javart.IsExecutable(rt.SparkSubmit()) {
		t.Fatalf("runtime %+v", rt)
	}
	if !filepath.IsAbs(rt.Python) || !filepath.IsAbs(rt.Home) {
		t.Fatalf("relative paths in %+v: runs have their own working directories", rt)
	}
	if filepath.Dir(rt.Home) != rt.SitePackages {
		t.Fatalf("site-packages %s is not the parent of %s", rt.SitePackages, rt.Home)
	}

	_, err = Discover(context.Background(), Config{Venv: t.TempDir(), Getenv: func(k string) string {
		if k == "JAVA_HOME" {
			return ""
		}
		return ""
	}})
	if err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("without a runtime: %v", err)
	}
	_, err = Discover(context.Background(), Config{Python: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), "cannot import pyspark") {
		t.Fatalf("a Python without pyspark: %v", err)
	}
	_, err = Discover(context.Background(), Config{SparkHome: t.TempDir(), Venv: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no executable bin/spark-submit") {
		t.Fatalf("a Spark home without spark-submit: %v", err)
	}
}

func TestDiscoverNoJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Discover(context.Background(), Config{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "no java: Spark needs Java 17") {
		t.Fatalf("without java: %v", err)
	}
}
