package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/token"
	"github.com/herdhq/herd/internal/store"
)

// AccessToken is a Knox-style JWT for the jobs API.
type AccessToken struct {
	Token     string
	ID        string // the knox.id claim, a UUID
	ExpiresAt time.Time
}

// IssueAccessToken signs an access token for p. jku, when set, is the URL
// of the JWKS, put in the header and claims as Knox does.
func (s *Service) IssueAccessToken(p Principal, jku string) (AccessToken, error) {
	now := s.now()
	id := s.cfg.NewID()
	exp := now.Add(s.cfg.TokenTTL)
	c := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.cfg.Issuer, Subject: p.User,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		KID: s.keys.ActiveID(), JKU: jku, KnoxID: id, ManagedToken: "false",
	}
	raw, err := s.keys.Sign(c, jku)
	if err != nil {
		return AccessToken{}, err
	}
	s.log.Info("access token issued", "user", p.User, "via", p.Method, "token_id", id)
	return AccessToken{Token: raw, ID: id, ExpiresAt: exp.Truncate(time.Second)}, nil
}

// VerifyAccessToken checks an access token and returns its principal.
func (s *Service) VerifyAccessToken(ctx context.Context, raw string) (Principal, error) {
	c, err := s.verify(raw, s.cfg.Issuer)
	if err != nil {
		return Principal{}, err
	}
	p, _, err := s.tokenPrincipal(ctx, c, MethodAccessToken)
	return p, err
}

func (s *Service) verify(raw, issuer string) (*token.Claims, error) {
	c, err := s.keys.Verify(raw, issuer, s.now)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unauthenticated, err, "invalid or expired token")
	}
	return c, nil
}

// tokenPrincipal loads the token's user and refuses tokens issued before
// the user's last password change.
func (s *Service) tokenPrincipal(ctx context.Context, c *token.Claims, m Method) (Principal, store.UserRow, error) {
	p, u, err := s.principalFor(ctx, c.Subject, m)
	if err != nil {
		return Principal{}, store.UserRow{}, err
	}
	if c.IssuedAt == nil || c.IssuedAt.Before(u.PasswordChangedAt.Truncate(time.Second)) {
		return Principal{}, store.UserRow{}, apperr.New(apperr.Unauthenticated, "token was issued before the user's password last changed; get a new one")
	}
	return p, u, nil
}

// Workload names accepted by IssueWorkloadToken, as in the CDP IAM API.
var workloads = map[string]bool{"DE": true, "DF": true, "OPDB": true}

// WorkloadToken is a CDP workload token.
type WorkloadToken struct {
	Token     string
	ExpiresAt time.Time
}

// IssueWorkloadToken signs a CDP workload token for p, exchangeable at the
// Knox token endpoints for an access token. A token obtained with an access
// key stops working when that key is deactivated or deleted.
func (s *Service) IssueWorkloadToken(p Principal, workload string) (WorkloadToken, error) {
	if !workloads[workload] {
		return WorkloadToken{}, apperr.New(apperr.Invalid, "unknown workloadName %q: want DE, DF or OPDB", workload)
	}
	now := s.now()
	exp := now.Add(s.cfg.WorkloadTokenTTL)
	c := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: WorkloadIssuer, Subject: p.User, Audience: jwt.ClaimStrings{workload}, ID: s.cfg.NewID(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Workload: workload, AccessKeyID: p.AccessKeyID,
	}
	raw, err := s.keys.Sign(c, "")
	if err != nil {
		return WorkloadToken{}, err
	}
	s.log.Info("workload token issued", "user", p.User, "workload", workload, "access_key_id", p.AccessKeyID)
	return WorkloadToken{Token: raw, ExpiresAt: exp.Truncate(time.Second)}, nil
}

// VerifyWorkloadToken checks a CDP workload token and returns its principal.
func (s *Service) VerifyWorkloadToken(ctx context.Context, raw string) (Principal, error) {
	c, err := s.verify(raw, WorkloadIssuer)
	if err != nil {
		return Principal{}, err
	}
	p, _, err := s.tokenPrincipal(ctx, c, MethodWorkloadToken)
	if err != nil {
		return Principal{}, err
	}
	if c.AccessKeyID != "" {
		k, err := s.db.Read().GetAccessKey(ctx, c.AccessKeyID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (k.Status != KeyActive || k.UserName != c.Subject)) {
			return Principal{}, apperr.New(apperr.Unauthenticated, "the access key this token was issued for is deleted or inactive")
		}
		if err != nil {
			return Principal{}, err
		}
		p.AccessKeyID = c.AccessKeyID
	}
	return p, nil
}
