package jobs

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/runner"
)

var root = auth.Principal{User: "root", Role: auth.RoleAdmin}

func TestValidateMaster(t *testing.T) {
	for _, tc := range []struct {
		master string
		ok     bool
	}{
		{"local", true},
		{"local[*]", true},
		{"local[4]", true},
		{"local[2,3]", true},
		{"local[*,2]", true},
		{"spark://127.0.1.1:7077", true},
		{"spark://m1.example.com:7077,m2.example.com:7077", true},
		{"", false},
		{"local[0]", false},
		{"local[]", false},
		{"local[*", false},
		{"yarn", false},
		{"k8s://https://kube:6443", false},
		{"spark://", false},
		{"spark://host", false},
		{"spark://host:7077/", false},
		{"spark://host:7077,", false},
		{"spark://ho st:7077", false},
		{"mesos://host:5050", false},
	} {
		err := ValidateMaster(tc.master)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateMaster(%q) = %v, want ok %v", tc.master, err, tc.ok)
		}
		if err != nil && apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("ValidateMaster(%q): kind %v", tc.master, apperr.KindOf(err))
		}
	}
}

func TestVirtualClusters(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
	etl, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "etl", SparkMaster: "spark://127.0.1.1:7077"})
	if err != nil {
		t.Fatal(err)
	}
	if etl.Name != "etl" || etl.SparkMaster != "spark://127.0.1.1:7077" || etl.CreatedAt.IsZero() {
		t.Fatalf("created %+v", etl)
	}
	if vc, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "adhoc", Name: "Ad hoc"}); err != nil || vc.SparkMaster != "local[*]" {
		t.Fatalf("created %+v, %v; want master local[*]", vc, err)
	}

	// Each refusal names its reason and changes nothing.
	before, err := s.ListVirtualClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		do   func() error
		kind apperr.Kind
	}{
		{"create by a user", func() error {
			_, err := s.CreateVirtualCluster(ctx, alice, VirtualCluster{ID: "mine"})
			return err
		}, apperr.Forbidden},
		{"create a taken id", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "etl", Name: "other"})
			return err
		}, apperr.Conflict},
		{"create a taken name", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "etl2", Name: "etl"})
			return err
		}, apperr.Conflict},
		{"create with an id that is no DNS label", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "ETL_1"})
			return err
		}, apperr.Invalid},
		{"create the Knox host's label", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "service"})
			return err
		}, apperr.Invalid},
		{"create with a YARN master", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "yarn", SparkMaster: "yarn"})
			return err
		}, apperr.Invalid},
		{"create with a control character in the name", func() error {
			_, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "x", Name: "a\nb"})
			return err
		}, apperr.Invalid},
		{"update by a user", func() error {
			_, err := s.UpdateVirtualCluster(ctx, alice, "etl", VirtualClusterUpdate{SparkMaster: str("local[2]")})
			return err
		}, apperr.Forbidden},
		{"update a missing cluster", func() error {
			_, err := s.UpdateVirtualCluster(ctx, root, "nope", VirtualClusterUpdate{SparkMaster: str("local[2]")})
			return err
		}, apperr.NotFound},
		{"update to a bad master", func() error {
			_, err := s.UpdateVirtualCluster(ctx, root, "etl", VirtualClusterUpdate{SparkMaster: str("spark://")})
			return err
		}, apperr.Invalid},
		{"update to a taken name", func() error {
			_, err := s.UpdateVirtualCluster(ctx, root, "etl", VirtualClusterUpdate{Name: str("Ad hoc")})
			return err
		}, apperr.Conflict},
		{"update the default cluster's master", func() error {
			_, err := s.UpdateVirtualCluster(ctx, root, DefaultVC, VirtualClusterUpdate{SparkMaster: str("local[2]")})
			return err
		}, apperr.Invalid},
		{"delete by a user", func() error { return s.DeleteVirtualCluster(ctx, alice, "etl") }, apperr.Forbidden},
		{"delete the default cluster", func() error { return s.DeleteVirtualCluster(ctx, root, DefaultVC) }, apperr.Conflict},
		{"delete a missing cluster", func() error { return s.DeleteVirtualCluster(ctx, root, "nope") }, apperr.NotFound},
	} {
		if err := tc.do(); apperr.KindOf(err) != tc.kind {
			t.Errorf("%s: %v (kind %v), want kind %v", tc.name, err, apperr.KindOf(err), tc.kind)
		}
	}
	after, err := s.ListVirtualClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 || len(before) != 3 {
		t.Fatalf("virtual clusters before %+v, after %+v", before, after)
	}
	for i := range after {
		if after[i] != before[i] {
			t.Errorf("refusals changed %+v into %+v", before[i], after[i])
		}
	}

	// The default cluster may be renamed, its master only by the server.
	if vc, err := s.UpdateVirtualCluster(ctx, root, DefaultVC, VirtualClusterUpdate{Name: str("Default"), SparkMaster: str("local[*]")}); err != nil || vc.Name != "Default" {
		t.Fatalf("rename default: %+v, %v", vc, err)
	}
	if vc, err := s.UpdateVirtualCluster(ctx, root, "etl", VirtualClusterUpdate{SparkMaster: str("local[2]")}); err != nil || vc.SparkMaster != "local[2]" || vc.Name != "etl" {
		t.Fatalf("update etl: %+v, %v", vc, err)
	}

	// A cluster that holds a job, or a live run, stays; its ended runs go
	// with it, directories and all.
	if _, err := s.CreateJob(ctx, alice, "etl", Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "main.py"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVirtualCluster(ctx, root, "etl"); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("delete with a job: %v", err)
	}
	run, err := s.RunJob(ctx, alice, "etl", "j", RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	run2, err := s.RunJob(ctx, alice, "etl", "j", RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJob(ctx, alice, "etl", "j"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVirtualCluster(ctx, root, "etl"); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("delete with a live run: %v", err)
	}
	for _, id := range []int64{run.ID, run2.ID} {
		if _, err := s.KillRun(ctx, alice, "etl", id); err != nil {
			t.Fatal(err)
		}
	}
	onePage := url.Values{"limit": {"1"}}
	if _, page, err := s.ListRuns(ctx, "etl", onePage); err != nil || page.Total != 2 { // a count, cached
		t.Fatalf("runs of etl: %+v %v", page, err)
	}
	if err := os.MkdirAll(s.runDir(run.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVirtualCluster(ctx, root, "etl"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VirtualCluster(ctx, "etl"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("deleted cluster: %v", err)
	}
	if _, err := os.Stat(s.runDir(run.ID)); !os.IsNotExist(err) {
		t.Fatalf("the ended run's directory is still there: %v", err)
	}
	// A new cluster of the same id starts empty, counts included.
	if _, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: "etl"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateJob(ctx, alice, "etl", Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "main.py"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunJob(ctx, alice, "etl", "j", RunRequest{}); err != nil {
		t.Fatal(err)
	}
	if runs, page, err := s.ListRuns(ctx, "etl", onePage); err != nil || len(runs) != 1 || page.Total != 1 {
		t.Fatalf("runs of the new etl: %v %+v %v", runs, page, err)
	}
}

func TestVirtualClusterOfHost(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
	// The ids are cached: a lookup before a cluster exists must not hide
	// it afterwards.
	if got, err := s.VirtualClusterOfHost(ctx, "etl.example.com"); err != nil || got != DefaultVC {
		t.Fatalf("before etl exists: %q, %v", got, err)
	}
	for _, id := range []string{"etl", "127"} {
		if _, err := s.CreateVirtualCluster(ctx, root, VirtualCluster{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	for host, want := range map[string]string{
		"etl.cde-herd.example.com":      "etl",
		"ETL.cde-herd.example.com:7180": "etl",
		"etl.localhost:7180":            "etl",
		"etl":                           DefaultVC, // no domain: a bare host name
		"localhost:7180":                DefaultVC,
		"127.0.0.1:7180":                DefaultVC, // an address, though "127" is a cluster
		"[::1]:7180":                    DefaultVC,
		"herd.example.com":              DefaultVC, // the server's own name
		"service.cde-herd.example.com":  DefaultVC,
		"default.cde-herd.example.com":  DefaultVC,
		"":                              DefaultVC,
		"etl_x.example.com":             DefaultVC,
	} {
		if got, err := s.VirtualClusterOfHost(ctx, host); err != nil || got != want {
			t.Errorf("VirtualClusterOfHost(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
}

// A crash between deleting run records (with their virtual cluster) and
// their directories leaves directories without records; recovery removes
// them and keeps the others.
func TestStopStraysRemovesDirectoriesOfDeletedRuns(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
	s.cfg.Runner = runner.New(os.Args[0], nil)
	if _, err := s.CreateJob(ctx, alice, DefaultVC, Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "main.py"}}); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunJob(ctx, alice, DefaultVC, "j", RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{run.ID, run.ID + 1} {
		if err := os.MkdirAll(filepath.Join(s.runDir(id), "logs"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.stopStrays(ctx, map[int64]bool{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.runDir(run.ID)); err != nil {
		t.Errorf("the directory of a recorded run: %v", err)
	}
	if _, err := os.Stat(s.runDir(run.ID + 1)); !os.IsNotExist(err) {
		t.Errorf("the directory of a run without a record is still there: %v", err)
	}
}
