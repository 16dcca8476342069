package jobs

import (
	"context"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/blobstore"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/store"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var alice = auth.Principal{User: "alice", Role: auth.RoleUser}

// newTestService returns a service on a fresh store, with no runner: runs
// stay queued, which is what tests of acceptance and scheduling want.
func newTestService(t *testing.T, clock *testClock) *Service {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kr, err := keyring.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, db, kr, blobs, Config{MaxUploadBytes: 1 << 20, Now: clock.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runsOf lists a job's runs, oldest first.
func runsOf(t *testing.T, s *Service, job string) []Run {
	t.Helper()
	runs, _, err := s.ListRuns(context.Background(), DefaultVC, url.Values{"filter": {"job[eq]" + job}, "limit": {"1000"}})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}
