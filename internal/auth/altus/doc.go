// Package altus implements the CDP "v1" request signature carried in the
// x-altus-auth and x-altus-date headers: parsing and building the header,
// the five-line string to sign, Ed25519 signing (for clients and tests) and
// verification, and the RFC 1123 date.
//
// The header is <b64url(params JSON)>.<b64url(signature)>; the string to
// sign is method, content type, date, path and auth method, joined by "\n".
// Only ed25519v1 is implemented; rsav1 and ecdsav1 are recognised and
// refused with a clear error.
package altus
