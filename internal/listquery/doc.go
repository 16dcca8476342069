// Package listquery owns the list-query parameters of the CDE-compatible
// REST API (limit, offset, orderby, orderasc and repeated filter) and their
// translation to SQL.
//
// A caller describes one collection with a Schema: the fields a client may
// filter or sort on, each with its value Type and the SQL expression that
// yields it, plus open-ended Prefix families such as "spark.conf.<key>".
// Parse checks a request's url.Values against the Schema and returns a Query
// or an apperr.Invalid error that tells the client what to fix. Query.Where
// and Query.OrderClause render SQL in which every client-supplied value is a
// bound $N argument; the only SQL text comes from the Schema (and, for a
// Prefix field, from its ExprFor given a key restricted to [A-Za-z0-9_.-]).
//
// Filter syntax: filter=<field>[<op>]<argument>, with op one of eq (alias
// req), noteq, lt, lte, gt, gte, in, notin (comma-separated lists), like (SQL
// LIKE) and rlike (a Go regular expression). Several filter parameters, and
// clauses joined by " AND " inside one parameter, are ANDed. Time arguments
// are full or partial RFC 3339 timestamps (2023-11-23, 2023-11-23T10,
// 2023-11-23T10:30, ...), UTC unless they carry an offset.
//
// The SQL is written for SQLite, the embedded default; the Dialect seam
// covers the few operators PostgreSQL spells differently.
package listquery
