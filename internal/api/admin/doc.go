// Package admin serves Herd's own management API under /herd/v1: who am I,
// user management (admins only, but users may read themselves and change
// their own password) and the virtual clusters of the jobs API, each with
// the Spark master its runs go to (anyone may read them, admins change
// them). The herd CLI talks to it.
//
// Every credential kind Herd knows is accepted here, which also makes
// /herd/v1/whoami the place to check any credential. Errors are
// {"code": "...", "message": "..."}, the CDP shape, written by
// httpjson.CodedErrorWriter alone.
package admin
