package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/listquery"
)

var countFilters = []url.Values{
	{},
	{"filter": {"type[eq]spark"}},
	{"filter": {"spark.executorCores[lt]3"}},
	{"filter": {"name[like]j1%"}},
	{"filter": {"lastUsed[gt]2026-01-01", "spark.driverMemory[eq]2g"}},
	{"filter": {"spark.conf.x[noteq]a"}},
}

// truth counts the matches without the cache.
func truth(t *testing.T, db *DB, lq listquery.Query) int {
	t.Helper()
	where, args := lq.Where(listquery.SQLite, 2)
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM jobs WHERE vc_id = $1 AND (`+where+`)`, append([]any{"vc"}, args...)...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func cached(t *testing.T, db *DB, lq listquery.Query) int {
	t.Helper()
	var n int
	if err := db.ReadTx(context.Background(), func(q *Queries) (err error) {
		_, n, err = q.ListJobs(context.Background(), "vc", lq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func randomSpec(r *rand.Rand) string {
	return fmt.Sprintf(`{"spark":{"executorCores":%d,"driverMemory":"%s","conf":{"x":"%s"}}}`,
		1+r.IntN(5), []string{"1g", "2g"}[r.IntN(2)], []string{"a", "b"}[r.IntN(2)])
}

// Counts, cached and corrected by the change log, always equal a fresh
// count, whatever the sequence of writes (and rolled-back writes).
func TestCountCacheMatchesTruth(t *testing.T) {
	db := openWithVC(t)
	ctx := context.Background()
	var queries []listquery.Query
	for _, f := range countFilters {
		f = cloneValues(f)
		f.Set("limit", "1") // a full page: the count is needed
		lq, err := listquery.Parse(JobListSchema, f)
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, lq)
	}
	r := rand.New(rand.NewPCG(1, 2))
	names := map[string]bool{}
	pick := func() string {
		for n := range names {
			return n
		}
		return ""
	}
	for step := range 300 {
		rollback := r.IntN(10) == 0
		err := db.InTx(ctx, func(q *Queries) error {
			for range 1 + r.IntN(3) {
				switch op := r.IntN(4); {
				case op == 0 || len(names) < 5:
					name := fmt.Sprintf("j%d", r.IntN(400))
					if names[name] {
						continue
					}
					if err := q.InsertJob(ctx, JobRow{VCID: "vc", Name: name, Type: []string{"spark", "airflow"}[r.IntN(2)], Spec: randomSpec(r), CreatedBy: "a", CreatedAt: t0, ModifiedAt: t0}); err != nil {
						return err
					}
					if !rollback {
						names[name] = true
					}
				case op == 1:
					if err := q.UpdateJobSpec(ctx, "vc", pick(), randomSpec(r), t0); err != nil {
						return err
					}
				case op == 2:
					if err := q.TouchJob(ctx, "vc", pick(), t0.Add(time.Duration(r.IntN(2))*365*24*time.Hour)); err != nil {
						return err
					}
				default:
					name := pick()
					if err := q.DeleteJob(ctx, "vc", name); err != nil {
						return err
					}
					if !rollback {
						delete(names, name)
					}
				}
			}
			if rollback {
				return errors.New("roll back")
			}
			return nil
		})
		if err != nil && !rollback {
			t.Fatalf("step %d: %v", step, err)
		}
		for i, lq := range queries {
			if got, want := cached(t, db, lq), truth(t, db, lq); got != want {
				t.Fatalf("step %d, filter %v: count %d, want %d", step, countFilters[i], got, want)
			}
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Under concurrent writers and readers the cache stays consistent: once
// the writers stop, every count equals a fresh one (run with -race).
func TestCountCacheConcurrent(t *testing.T) {
	db := openWithVC(t)
	ctx := context.Background()
	lq, _ := listquery.Parse(JobListSchema, url.Values{"limit": {"1"}, "filter": {"spark.executorCores[lt]3"}})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range 300 {
				name := fmt.Sprintf("w%d-%d", w, i%50)
				_ = db.InTx(ctx, func(q *Queries) error {
					if err := q.DeleteJob(ctx, "vc", name); err != nil && !errors.Is(err, ErrNotFound) {
						return err
					}
					return q.InsertJob(ctx, JobRow{VCID: "vc", Name: name, Type: "spark", Spec: randomSpec(r), CreatedBy: "a", CreatedAt: t0, ModifiedAt: t0})
				})
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 300 {
				cached(t, db, lq)
			}
		})
	}
	wg.Wait()
	if got, want := cached(t, db, lq), truth(t, db, lq); got != want {
		t.Fatalf("count %d, want %d", got, want)
	}
}
