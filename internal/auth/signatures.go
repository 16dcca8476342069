package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/altus"
	"github.com/herdhq/herd/internal/store"
)

// AuthenticateSignedRequest checks a CDP request signature: the
// x-altus-auth header must parse, name a supported method and an active
// access key, and carry a valid signature of the request's method,
// Content-Type, x-altus-date and path (with or without the query, as
// clients differ); the date must lie within the configured window of now,
// and the signature must not have been used before.
func (s *Service) AuthenticateSignedRequest(ctx context.Context, r *http.Request, service string) (Principal, error) {
	params, sig, err := altus.ParseHeader(r.Header.Get(altus.HeaderAuth))
	if err != nil {
		return Principal{}, apperr.Wrap(apperr.Unauthenticated, err, err.Error())
	}
	if params.AuthMethod != altus.MethodEd25519 {
		return Principal{}, apperr.New(apperr.Unauthenticated, "auth_method %q is not supported: sign with ed25519v1", params.AuthMethod)
	}
	dateHeader := r.Header.Get(altus.HeaderDate)
	if dateHeader == "" {
		return Principal{}, apperr.New(apperr.Unauthenticated, "missing x-altus-date header")
	}
	date, err := altus.ParseDate(dateHeader)
	if err != nil {
		return Principal{}, apperr.Wrap(apperr.Unauthenticated, err, err.Error())
	}
	now := s.now()
	window := s.cfg.SignatureWindow
	if skew := now.Sub(date); skew > window || skew < -window {
		return Principal{}, apperr.New(apperr.Unauthenticated,
			"x-altus-date %q is outside the allowed window of %s around the server time %s", dateHeader, window, altus.FormatDate(now))
	}
	fail := apperr.New(apperr.Unauthenticated, "request signature does not verify")
	k, err := s.db.Read().GetAccessKey(ctx, params.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("signed request refused", "access_key_id", params.AccessKeyID, "reason", "unknown access key")
		return Principal{}, fail
	}
	if err != nil {
		return Principal{}, err
	}
	if !s.signatureMatches(r, k.PublicKey, dateHeader, sig) {
		s.log.Info("signed request refused", "access_key_id", k.ID, "reason", "bad signature")
		return Principal{}, fail
	}
	digest := sha256.Sum256(sig)
	err = s.db.InTx(ctx, func(q *store.Queries) error { return q.RememberSignature(ctx, digest[:], date.Add(window)) })
	if errors.Is(err, store.ErrConflict) {
		s.log.Warn("signed request refused", "access_key_id", k.ID, "reason", "replayed signature")
		return Principal{}, apperr.New(apperr.Unauthenticated, "request signature was already used; sign each request anew")
	}
	if err != nil {
		return Principal{}, err
	}
	return s.keyPrincipal(ctx, k, MethodSignature, service)
}

func (s *Service) signatureMatches(r *http.Request, pub []byte, date string, sig []byte) bool {
	// The path as the client sent it, still percent-encoded.
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
	}
	path, query, hasQuery := strings.Cut(target, "?")
	ct := r.Header.Get("Content-Type")
	if altus.Verify(pub, altus.StringToSign(r.Method, ct, date, path, altus.MethodEd25519), sig) {
		return true
	}
	return hasQuery &&
		altus.Verify(pub, altus.StringToSign(r.Method, ct, date, path+"?"+query, altus.MethodEd25519), sig)
}
