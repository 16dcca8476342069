package auth

import (
	"context"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/auth/password"
)

// Token issuance for HTTP Basic: password check, then an RS256 signature,
// at the production password cost (password.DefaultParams).
func BenchmarkIssueTokenBasic(b *testing.B) {
	f := newFixture(b)
	svc := f.newService(b, password.DefaultParams)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, f.admin, "bench", "bench-password-1", RoleUser); err != nil {
		b.Fatal(err)
	}
	b.Logf("argon2id %s", password.DefaultParams)
	issue := func(b *testing.B) {
		b.Helper()
		p, err := svc.AuthenticatePassword(ctx, "bench", "bench-password-1")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.IssueAccessToken(p, "http://h/gateway/authtkn/knoxtoken/api/v1/jwks.json"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first-login", func(b *testing.B) {
		svc.passwords = newPasswordCache(-time.Second) // every check misses: full argon2id
		for b.Loop() {
			issue(b)
		}
	})
	b.Run("repeat-login", func(b *testing.B) {
		svc.passwords = newPasswordCache(time.Hour)
		issue(b)
		for b.Loop() {
			issue(b)
		}
	})
}

// Verification of an access token as done on every API request: parse,
// RS256 check, claims, and the lookup of the token's user.
func BenchmarkVerifyAccessToken(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	tok, err := f.svc.IssueAccessToken(f.admin, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.VerifyAccessToken(ctx, tok.Token); err != nil {
			b.Fatal(err)
		}
	}
}
