// Package store owns Herd's database: connections, schema migrations,
// transactions and every SQL statement of every domain.
//
// SQLite (modernc.org/sqlite, pure Go) is the embedded default: WAL mode,
// foreign keys on, one writer connection with BEGIN IMMEDIATE transactions
// and a separate pool of read-only connections. The SQL is written to run
// unchanged on PostgreSQL as well: $N placeholders, ON CONFLICT, RETURNING,
// times as BIGINT Unix milliseconds, no SQLite-only functions in queries.
// Dialect differences live only in the migrations (one directory per
// dialect) and in driver error classification.
//
// Callers read through DB.Read and write through DB.InTx; both hand out a
// *Queries, so a query is written once and runs in or out of a transaction.
// Rows are the package's own types; domain packages convert them.
package store
