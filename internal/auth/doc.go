// Package auth owns identities and credentials: users and their password
// hashes, access keys, sessions, the JWT signing keys, and the checks that
// turn a request's credentials into a Principal.
//
// Credentials it understands:
//   - HTTP Basic user name and password (argon2id hashes, with a short-lived
//     in-memory cache of successful checks so that clients sending Basic on
//     every call do not pay the hash cost each time);
//   - a session cookie, started by a Basic login (Cloudera Manager style);
//   - a Knox-style access token (RS256 JWT) issued by IssueAccessToken;
//   - a CDP workload token issued by IssueWorkloadToken, accepted only by
//     the Knox token endpoints;
//   - an access key as Credential-ID / Credential-Secret headers
//     (Hadoop Eco style);
//   - a CDP request signature (x-altus-auth / x-altus-date, ed25519v1),
//     with a date window and replay protection.
//
// Invariants: secrets are never stored in the clear (passwords hashed,
// access-key private keys hashed, session ids hashed, the signing key sealed
// by the keyring) and never logged. A token stops working as soon as its
// user is deleted or changes password; a role change applies at once.
// Authorization of user and access-key management lives here too, so every
// API family enforces the same rules.
package auth
