package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// logLoop rotates the roles' logs that grew past LogMaxBytes, checking
// every few seconds.
func (a *Agent) logLoop(ctx context.Context) {
	t := time.NewTicker(a.t.logCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.rotateLogs()
	}
}

// rotateLogs rotates every role's stdout.log and stderr.log that is larger
// than LogMaxBytes, including those of removed roles.
func (a *Agent) rotateLogs() {
	dirs, err := filepath.Glob(filepath.Join(a.rolesDir, "*", logsDirName))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		for _, name := range []string{stdoutLog, stderrLog} {
			path := filepath.Join(dir, name)
			fi, err := os.Stat(path)
			if err != nil || fi.Size() <= a.cfg.LogMaxBytes {
				continue
			}
			if err := rotate(path, a.cfg.LogKeep); err != nil {
				a.log.Warn("rotate log", "path", path, "err", err)
			}
		}
	}
}

// rotate copies path to path.1, after shifting path.1 to path.2 and so on
// (keeping keep of them), then truncates path. The process writing path
// keeps its file descriptor, which appends at the new end (O_APPEND); what
// it writes between the copy and the truncation is lost.
func rotate(path string, keep int) error {
	keep = max(keep, 1)
	if err := os.Remove(path + "." + strconv.Itoa(keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate log: %w", err)
	}
	for i := keep - 1; i >= 1; i-- {
		from, to := path+"."+strconv.Itoa(i), path+"."+strconv.Itoa(i+1)
		if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	if err := copyFile(path, path+".1"); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	if err := os.Truncate(path, 0); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}

// copyFile copies src to dst through a temporary file renamed into place.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
