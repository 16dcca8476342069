package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/altus"
	"github.com/herdhq/herd/internal/auth/password"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testParams = password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}

type fixture struct {
	svc   *Service
	clock *clock
	admin Principal
	pw    string
	dir   string
	kr    *keyring.Keyring
	db    *store.DB
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kr, err := keyring.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	f := &fixture{clock: c, dir: dir, kr: kr, db: db}
	f.svc = f.newService(t, testParams)
	if _, err := f.svc.Bootstrap(context.Background(), func(p string) error { f.pw = p; return nil }); err != nil {
		t.Fatal(err)
	}
	f.admin = Principal{User: "admin", Role: RoleAdmin}
	return f
}

func (f *fixture) newService(t testing.TB, p password.Params) *Service {
	t.Helper()
	svc, err := New(context.Background(), f.db, f.kr, Config{
		Issuer: "KNOXSSO", TokenTTL: time.Hour, WorkloadTokenTTL: time.Hour, SessionTTL: 30 * time.Minute,
		SignatureWindow: 5 * time.Minute, Password: p, Now: f.clock.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestBootstrapOnce(t *testing.T) {
	f := newFixture(t)
	if len(f.pw) != 20 {
		t.Fatalf("admin password %q", f.pw)
	}
	created, err := f.svc.Bootstrap(context.Background(), func(string) error { t.Fatal("save called again"); return nil })
	if err != nil || created {
		t.Fatalf("second bootstrap: %v %v", created, err)
	}
}

func TestBootstrapSaveFailureCreatesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.db.InTx(ctx, func(q *store.Queries) error { return q.DeleteUser(ctx, "admin") }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	if _, err := f.svc.Bootstrap(ctx, func(string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := f.svc.db.Read().CountUsers(ctx, ""); n != 0 {
		t.Fatalf("%d users after a failed bootstrap", n)
	}
}

func TestSigningKeyPersists(t *testing.T) {
	f := newFixture(t)
	again := f.newService(t, testParams)
	if again.keys.ActiveID() != f.svc.keys.ActiveID() {
		t.Fatal("a second service made a new signing key")
	}
	other, _ := keyring.New(make([]byte, 32))
	_, err := New(context.Background(), f.db, other, Config{Issuer: "x", Password: testParams, Now: f.clock.now})
	if err == nil {
		t.Fatal("signing key opened with another master key")
	}
}

func TestPasswordCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.AuthenticatePassword(ctx, "admin", f.pw); err != nil {
		t.Fatal(err)
	}
	if !f.svc.passwords.hit("admin", f.pw, mustUser(t, f).PasswordChangedAt, f.clock.now()) {
		t.Fatal("successful login not cached")
	}
	// A password change makes the cached entry useless at once.
	newPW := "new-password-1"
	f.clock.advance(time.Second)
	if _, err := f.svc.UpdateUser(ctx, f.admin, "admin", UserUpdate{Password: &newPW}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticatePassword(ctx, "admin", f.pw); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Fatalf("old password after change: %v", err)
	}
	if _, err := f.svc.AuthenticatePassword(ctx, "admin", newPW); err != nil {
		t.Fatal(err)
	}
	// Entries expire.
	f.clock.advance(6 * time.Minute)
	if f.svc.passwords.hit("admin", newPW, mustUser(t, f).PasswordChangedAt, f.clock.now()) {
		t.Fatal("cache entry outlived its TTL")
	}
}

func TestRehashOnLogin(t *testing.T) {
	f := newFixture(t)
	stronger := password.Params{MemoryKiB: 9 * 1024, Iterations: 1, Parallelism: 1}
	svc := f.newService(t, stronger)
	if _, err := svc.AuthenticatePassword(context.Background(), "admin", f.pw); err != nil {
		t.Fatal(err)
	}
	if password.NeedsRehash(mustUser(t, f).PasswordHash, stronger) {
		t.Fatal("hash not upgraded after login")
	}
	if _, err := svc.AuthenticatePassword(context.Background(), "admin", f.pw); err != nil {
		t.Fatal("login fails after the upgrade")
	}
}

func mustUser(t *testing.T, f *fixture) store.UserRow {
	t.Helper()
	u, err := f.svc.db.Read().GetUser(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReadOnlyMayManageOwnKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.CreateUser(ctx, f.admin, "rita", "rita-secret-1", RoleReadOnly); err != nil {
		t.Fatal(err)
	}
	rita := Principal{User: "rita", Role: RoleReadOnly}
	k, priv, err := f.svc.CreateAccessKey(ctx, rita, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateAccessKey(ctx, k.ID, priv, "test")
	if err != nil || p.User != "rita" || p.CanWrite() {
		t.Fatalf("principal %+v, %v", p, err)
	}
}

func TestSignatureWindowAndReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, priv, err := f.svc.CreateAccessKey(ctx, f.admin, "")
	if err != nil {
		t.Fatal(err)
	}
	req := func(date time.Time) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/iam/generateWorkloadAuthToken", nil)
		d := altus.FormatDate(date)
		h, _ := altus.Sign(http.MethodPost, "", d, "/api/v1/iam/generateWorkloadAuthToken", k.ID, priv)
		r.Header.Set(altus.HeaderDate, d)
		r.Header.Set(altus.HeaderAuth, h)
		return r
	}
	now := f.clock.now()
	for _, d := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute} {
		if _, err := f.svc.AuthenticateSignedRequest(ctx, req(now.Add(d)), "test"); err != nil {
			t.Errorf("date %+v: %v", d, err)
		}
	}
	for _, d := range []time.Duration{-5*time.Minute - time.Second, 5*time.Minute + time.Second} {
		if _, err := f.svc.AuthenticateSignedRequest(ctx, req(now.Add(d)), "test"); apperr.KindOf(err) != apperr.Unauthenticated {
			t.Errorf("date %+v accepted", d)
		}
	}
	// The same date gives the same Ed25519 signature: a replay.
	if _, err := f.svc.AuthenticateSignedRequest(ctx, req(now), "test"); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Error("replay accepted")
	}
	// After the window, the remembered signature is swept and the date is stale.
	f.clock.advance(11 * time.Minute)
	if err := f.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateSignedRequest(ctx, req(now), "test"); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Error("stale signature accepted after sweep")
	}
}
