package fileutil

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed into place, so that a crash leaves either the
// old file or the new one, never a partial one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return replace(path, perm, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// CopyFile copies src to dst through a temporary file renamed into place:
// readers of dst see the old file or the whole new one. It does not sync:
// for copies that a crash may lose (scratch files, rotated logs).
func CopyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return replace(dst, perm, false, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// replace writes path's new content with write into a temporary file of
// the same directory and renames it into place.
func replace(path string, perm os.FileMode, sync bool, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // already gone after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
