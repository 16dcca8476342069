//go:build unix && !linux

package runner

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// sysProcAttr returns how a wrapper is started: in its own process group,
// with no parent-death signal. There are no namespaces here.
func sysProcAttr(bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func probeIsolation(string, []string) (bool, string) {
	return false, "private mount and pid namespaces need Linux, this is " + runtime.GOOS
}

func probeInWrapper() error {
	return errors.New("private mount and pid namespaces need Linux")
}

// prepare returns the wrapper's pid; there is no portable start time, so
// it is 0 and Attach checks the pid only.
func (w *wrapper) prepare(secrets map[string]map[string]string) (int, uint64, error) {
	if w.isolate || len(secrets) > 0 {
		return 0, 0, errors.New("private mount and pid namespaces need Linux")
	}
	return os.Getpid(), 0, nil
}

// procAlive reports whether pid is a process (start is not checked here).
func procAlive(pid int, _ uint64) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// fdDir lists the open fds of the calling process.
const fdDir = "/dev/fd"
