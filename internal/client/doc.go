// Package client is a small Go client of Herd's management and IAM APIs,
// used by the herd CLI. It authenticates with HTTP Basic.
package client
