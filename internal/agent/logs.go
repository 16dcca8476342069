package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/herdhq/herd/internal/fileutil"
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
	if err := fileutil.CopyFile(path, path+".1", 0o600); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	if err := os.Truncate(path, 0); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}
