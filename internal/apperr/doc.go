// Package apperr defines the error kinds that every Herd domain package
// returns (invalid input, not found, conflict, unauthenticated, …).
//
// Domain code says what went wrong with a Kind and a message meant for the
// API caller; each API family maps the Kind to its own status code and wire
// error shape in one place. Errors without a Kind are internal: their text is
// logged, never sent to a client.
package apperr
