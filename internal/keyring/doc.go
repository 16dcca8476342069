// Package keyring owns Herd's master key and seals secrets at rest with it.
//
// The master key is 32 random bytes, taken from the HERD_MASTER_KEY
// environment variable (base64) when set, otherwise from
// <data-dir>/master.key (base64, mode 0600), which is created on first start.
// Sealed values are AES-256-GCM with a random nonce; the key's id and a
// caller-given context (for example "signing-key/<kid>") are bound as
// additional data, so a sealed value cannot be moved to another row or
// opened with another key without the failure being detected.
package keyring
