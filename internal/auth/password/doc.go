// Package password hashes and checks user passwords with argon2id.
//
// Hashes are stored in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so the cost parameters travel
// with each hash: raising the cost later leaves old hashes verifiable, and
// NeedsRehash tells the caller when a hash should be replaced.
package password
