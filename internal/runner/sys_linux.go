package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sysProcAttr returns how a wrapper is started: in its own process group,
// with no parent-death signal, and, isolated, in new mount and pid
// namespaces.
func sysProcAttr(isolate bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if isolate {
		a.Cloneflags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID
	}
	return a
}

// probeIsolation starts exe as a wrapper in probe mode, in new namespaces.
func probeIsolation(exe string, env []string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, WrapperCommand, "-probe")
	cmd.Env = env
	cmd.Dir = "/"
	cmd.SysProcAttr = sysProcAttr(true)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return false, "cannot run jobs in private mount and pid namespaces: " + msg
	}
	return true, ""
}

// probeInWrapper does, in the probe wrapper, what an isolated wrapper does
// before starting a command.
func probeInWrapper() error {
	if os.Getpid() != 1 {
		return errors.New("the probe is not pid 1 of a new pid namespace")
	}
	if err := makeMountsPrivate(); err != nil {
		return err
	}
	if err := mountProc(); err != nil {
		return err
	}
	return mountSecrets(map[string]map[string]string{"probe": {"probe": "probe"}})
}

// prepare makes the wrapper's mounts (when isolated) and returns its host
// pid and start time.
func (w *wrapper) prepare(secrets map[string]map[string]string) (hostPid int, start uint64, err error) {
	if !w.isolate {
		pid := os.Getpid()
		_, start, err := procStat(pid)
		return pid, start, err
	}
	if os.Getpid() != 1 {
		return 0, 0, errors.New("-isolate but not pid 1 of a new pid namespace")
	}
	if err := makeMountsPrivate(); err != nil {
		return 0, 0, err
	}
	// /proc is still the host's: /proc/self names our host pid.
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, 0, err
	}
	if hostPid, err = strconv.Atoi(self); err != nil {
		return 0, 0, fmt.Errorf("host pid: %w", err)
	}
	if _, start, err = procStat(hostPid); err != nil {
		return 0, 0, err
	}
	if err := mountProc(); err != nil {
		return 0, 0, err
	}
	if err := mountSecrets(secrets); err != nil {
		return 0, 0, err
	}
	return hostPid, start, nil
}

// makeMountsPrivate stops mount events propagating between this mount
// namespace and the host's.
func makeMountsPrivate() error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	return nil
}

// mountProc mounts a procfs of the new pid namespace on /proc.
func mountProc() error {
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	return nil
}

// mountSecrets mounts a tmpfs on SecretsRoot, writes the secrets there and
// makes it read-only. Errors name files, never values.
func mountSecrets(secrets map[string]map[string]string) error {
	if err := os.MkdirAll(SecretsRoot, 0o755); err != nil {
		return err
	}
	size := 1 << 20
	for _, keys := range secrets {
		size += 8 << 10
		for _, v := range keys {
			size += 8<<10 + 2*len(v)
		}
	}
	const flags = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC
	if err := syscall.Mount("tmpfs", SecretsRoot, "tmpfs", flags, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", SecretsRoot, err)
	}
	for cred, keys := range secrets {
		if !validName(cred) {
			return fmt.Errorf("invalid credential name %q", cred)
		}
		cdir := filepath.Join(SecretsRoot, cred)
		if err := os.Mkdir(cdir, 0o700); err != nil {
			return err
		}
		for key, value := range keys {
			if !validName(key) {
				return fmt.Errorf("invalid secret key name %q", key)
			}
			if err := writeSecret(filepath.Join(cdir, key), value); err != nil {
				return err
			}
		}
	}
	if err := syscall.Mount("tmpfs", SecretsRoot, "tmpfs", flags|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", SecretsRoot, err)
	}
	return nil
}

func writeSecret(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// procStat returns the state (field 3) and start time (field 22) of pid from
// /proc/<pid>/stat.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return f[0][0], start, nil
}

// procAlive reports whether pid is a live (not zombie) process that started
// at start.
func procAlive(pid int, start uint64) bool {
	state, st, err := procStat(pid)
	return err == nil && st == start && state != 'Z' && state != 'X'
}

// fdDir lists the open fds of the calling process.
const fdDir = "/proc/self/fd"
