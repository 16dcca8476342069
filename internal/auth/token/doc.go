// Package token signs and verifies Herd's JSON Web Tokens and publishes the
// public keys as a JWKS.
//
// Tokens are RS256 only: the verifier pins the algorithm, requires a known
// kid, an expiry and the expected issuer, so "alg: none", HS256 tokens made
// with the public key, and tokens of another key or issuer are all refused.
// A key id is the RFC 7638 SHA-256 thumbprint of the public key, as Knox
// uses. The package holds keys in memory; persisting them is the caller's.
package token
