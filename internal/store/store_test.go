package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/listquery"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openWithVC is openTest with a virtual cluster "vc".
func openWithVC(t *testing.T) *DB {
	t.Helper()
	db := openTest(t)
	ctx := context.Background()
	if err := db.InTx(ctx, func(q *Queries) error {
		return q.EnsureVirtualCluster(ctx, VirtualClusterRow{ID: "vc", Name: "vc", CreatedAt: t0})
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestOpenTwiceKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herd.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(q *Queries) error {
		return q.InsertUser(ctx, UserRow{Name: "a", PasswordHash: "h", Role: "admin", CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.Read().GetUser(ctx, "a")
	if err != nil || !u.CreatedAt.Equal(t0) {
		t.Fatalf("GetUser after reopen = %+v, %v", u, err)
	}
}

func TestTxRollsBack(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.InTx(ctx, func(q *Queries) error {
		if err := q.InsertUser(ctx, UserRow{Name: "a", PasswordHash: "h", Role: "user", CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := db.Read().GetUser(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("row survived rollback: %v", err)
	}
}

func TestConstraints(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	u := UserRow{Name: "a", PasswordHash: "h", Role: "user", CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}
	insert := func(u UserRow) error {
		return db.InTx(ctx, func(q *Queries) error { return q.InsertUser(ctx, u) })
	}
	if err := insert(u); err != nil {
		t.Fatal(err)
	}
	if err := insert(u); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate user: %v, want ErrConflict", err)
	}
	bad := u
	bad.Name, bad.Role = "b", "superuser"
	if err := insert(bad); err == nil {
		t.Fatal("CHECK on role not enforced")
	}
	// Foreign key: an access key for a missing user.
	err := db.InTx(ctx, func(q *Queries) error {
		return q.InsertAccessKey(ctx, AccessKeyRow{ID: "k", UserName: "ghost", PublicKey: []byte{1}, SecretHash: []byte{2}, Status: "ACTIVE", CreatedAt: t0})
	})
	if err == nil {
		t.Fatal("foreign key not enforced")
	}
}

func TestDeleteUserCascades(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(q *Queries) error {
		if err := q.InsertUser(ctx, UserRow{Name: "a", PasswordHash: "h", Role: "user", CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}); err != nil {
			return err
		}
		if err := q.InsertAccessKey(ctx, AccessKeyRow{ID: "k", UserName: "a", PublicKey: []byte{1}, SecretHash: []byte{2}, Status: "ACTIVE", CreatedAt: t0}); err != nil {
			return err
		}
		return q.InsertSession(ctx, SessionRow{IDHash: []byte{9}, UserName: "a", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(q *Queries) error { return q.DeleteUser(ctx, "a") }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Read().GetAccessKey(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("access key survived its user: %v", err)
	}
	if _, err := db.Read().GetSession(ctx, []byte{9}); !errors.Is(err, ErrNotFound) {
		t.Errorf("session survived its user: %v", err)
	}
	if err := db.InTx(ctx, func(q *Queries) error { return q.DeleteUser(ctx, "a") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestRememberSignature(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	remember := func(d string, exp time.Time) error {
		return db.InTx(ctx, func(q *Queries) error { return q.RememberSignature(ctx, []byte(d), exp) })
	}
	if err := remember("x", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := remember("x", t0.Add(time.Minute)); !errors.Is(err, ErrConflict) {
		t.Fatalf("replay: %v, want ErrConflict", err)
	}
	var n int64
	if err := db.InTx(ctx, func(q *Queries) (err error) { n, err = q.DeleteExpired(ctx, t0.Add(2*time.Minute)); return }); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	if err := remember("x", t0.Add(3*time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.InTx(ctx, func(q *Queries) error {
				return q.RememberSignature(ctx, []byte{byte(i)}, t0)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestMeta(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var first, second string
	_ = db.InTx(ctx, func(q *Queries) (err error) { first, err = q.PutMetaIfAbsent(ctx, "k", "v1"); return })
	_ = db.InTx(ctx, func(q *Queries) (err error) { second, err = q.PutMetaIfAbsent(ctx, "k", "v2"); return })
	if first != "v1" || second != "v1" {
		t.Fatalf("PutMetaIfAbsent = %q, %q", first, second)
	}
}

// A cached count never outlives a committed write to its table.
func TestListCountFollowsWrites(t *testing.T) {
	db := openWithVC(t)
	ctx := context.Background()
	insert := func(name string) {
		t.Helper()
		if err := db.InTx(ctx, func(q *Queries) error {
			return q.InsertJob(ctx, JobRow{VCID: "vc", Name: name, Type: "spark", Spec: `{}`, CreatedBy: "a", CreatedAt: t0, ModifiedAt: t0})
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		insert(n)
	}
	lq, err := listquery.Parse(JobListSchema, url.Values{"limit": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		_, n, err := db.Read().ListJobs(ctx, "vc", lq)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("count = %d", n)
	}
	insert("d")
	if n := count(); n != 4 {
		t.Fatalf("count after an insert = %d", n)
	}
	// A failed transaction moves nothing.
	_ = db.InTx(ctx, func(q *Queries) error {
		if err := q.DeleteJob(ctx, "vc", "a"); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if n := count(); n != 4 {
		t.Fatalf("count after a rollback = %d", n)
	}
	if err := db.InTx(ctx, func(q *Queries) error { return q.DeleteJob(ctx, "vc", "a") }); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("count after a delete = %d", n)
	}
}

// After Optimize, counts over a filter that matches everything still read
// a narrow covering index, not the wide rows with their JSON documents.
func TestOptimizeKeepsCountsOnIndexes(t *testing.T) {
	db := openWithVC(t)
	ctx := context.Background()
	if err := db.InTx(ctx, func(q *Queries) error {
		spec := `{"spark":{"file":"` + strings.Repeat("x", 400) + `"}}`
		for i := range 2000 {
			if err := q.InsertJob(ctx, JobRow{VCID: "vc", Name: fmt.Sprintf("j%05d", i), Type: "spark", Spec: spec, CreatedBy: "a", CreatedAt: t0, ModifiedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	var stat string
	if err := db.w.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE tbl = 'jobs' AND idx IS NULL`).Scan(&stat); err != nil || !strings.Contains(stat, "sz=") {
		t.Fatalf("no row width hint: %q %v", stat, err)
	}
	var id, parent, unused int
	var plan string
	if err := db.r.QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT COUNT(*) FROM jobs WHERE vc_id = $1 AND (type = $2)`, "vc", "spark").Scan(&id, &parent, &unused, &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "COVERING INDEX") {
		t.Fatalf("count plan: %s", plan)
	}
	// Nothing to do the second time.
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
}
