// Package blobstore keeps the bytes of uploaded files on disk, under ids
// the database refers to.
//
// A blob is written to a temporary file in the same directory, hashed
// while it streams in, synced and renamed to its id, so a blob is either
// whole or absent: a failed or oversized upload leaves nothing behind. A
// blob is never changed after it is written; replacing a file means
// writing a new blob, committing the database row that points at it, and
// deleting the old blob. Blobs that no row points at (after a crash
// between the rename and the commit) are removed by Sweep.
package blobstore
