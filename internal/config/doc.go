// Package config defines the server's configuration and loads it in
// layers: built-in defaults < YAML config file < HERD_* environment
// variables < command-line flags.
//
// Every setting has one name used everywhere: the flag --token-ttl, the
// environment variable HERD_TOKEN_TTL and the config-file key token-ttl.
// Unknown keys in the config file are errors, so a typo does not pass
// silently. The master key is the one exception: it is read only from
// HERD_MASTER_KEY (or the key file), never from flags or the config file,
// so that it does not end up in shell history or a readable file.
package config
