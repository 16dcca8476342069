package blobstore

import (
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // SHA-1 is the file signature format of the CDE API, not a security control
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store is a directory of blobs.
type Store struct {
	dir string
}

// Open returns the store in dir, creating it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Blob describes a stored blob.
type Blob struct {
	ID   string
	Size int64
	SHA1 string // hex
}

const tmpPrefix = ".tmp-"

// ErrTooLarge is returned by Put when the content is longer than the limit.
var ErrTooLarge = errors.New("blob larger than the limit")

// ReadError is returned by Put when reading the content failed (the
// sender went away, say), as opposed to failing to store it.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read blob content: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// readErrorReader marks errors of the source reader as ReadErrors.
type readErrorReader struct{ r io.Reader }

func (r readErrorReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &ReadError{Err: err}
	}
	return n, err
}

// Put stores r as a new blob, reading at most limit bytes (no limit when
// limit <= 0). On any error nothing is left behind.
func (s *Store) Put(r io.Reader, limit int64) (Blob, error) {
	f, err := os.CreateTemp(s.dir, tmpPrefix)
	if err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = os.Remove(f.Name()) // best effort: Sweep removes what remains
		}
	}()
	h := sha1.New() //nolint:gosec // see import
	var src io.Reader = readErrorReader{r}
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	if limit > 0 && n > limit {
		return Blob{}, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return Blob{}, fmt.Errorf("put blob: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return Blob{}, fmt.Errorf("put blob: close: %w", err)
	}
	id := newID()
	if err := os.Rename(f.Name(), s.path(id)); err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	ok = true
	return Blob{ID: id, Size: n, SHA1: hex.EncodeToString(h.Sum(nil))}, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (s *Store) path(id string) string { return filepath.Join(s.dir, id) }

// Path returns the file of a blob, for callers that link or copy it.
func (s *Store) Path(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("blob id %q is malformed", id)
	}
	return s.path(id), nil
}

// Open opens a blob for reading.
func (s *Store) Open(id string) (*os.File, error) {
	p, err := s.Path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	return f, nil
}

// Delete removes blobs; missing ones are not an error.
func (s *Store) Delete(ids ...string) error {
	var errs []error
	for _, id := range ids {
		p, err := s.Path(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete blob: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Sweep removes temporary files and every blob for which keep returns
// false, and reports how many files went.
func (s *Store) Sweep(keep func(id string) bool) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("sweep blobs: %w", err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, tmpPrefix) && (!validID(name) || keep(name)) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("sweep blobs: %w", err)
		}
		n++
	}
	return n, nil
}
