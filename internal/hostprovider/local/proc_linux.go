package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// supported reports whether this system can run the provider.
func supported() error { return nil }

// procInfo is what /proc/<pid>/stat tells of a process.
type procInfo struct {
	pid   int
	pgid  int
	state byte
	// start is the process's start time in clock ticks after boot; with
	// the pid it names one process of one boot.
	start uint64
}

// dead reports whether the process has exited (a zombie waits for its
// parent to reap it, but runs no more).
func (pi procInfo) dead() bool { return pi.state == 'Z' || pi.state == 'X' }

// readStat reads /proc/<pid>/stat.
func readStat(pid int) (procInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, err
	}
	// The command name, in parentheses, may hold spaces and parentheses;
	// the fields after the last ')' are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), f[2] field 5 (pgrp), f[19] field 22 (starttime).
	if len(f) < 20 || len(f[0]) != 1 {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: pgrp: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: starttime: %w", pid, err)
	}
	return procInfo{pid: pid, pgid: pgid, state: f[0][0], start: start}, nil
}

// listPIDs returns the ids of all processes (not threads) of the system.
func listPIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// procCwd returns the working directory of a process; a directory that
// was removed meanwhile keeps its path.
func procCwd(pid int) (string, error) {
	s, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(s, " (deleted)"), nil
}

// procCmdline returns the arguments of a process.
func procCmdline(pid int) ([]string, error) {
	return readNulList("/proc/" + strconv.Itoa(pid) + "/cmdline")
}

// procEnviron returns the environment a process started with.
func procEnviron(pid int) ([]string, error) {
	return readNulList("/proc/" + strconv.Itoa(pid) + "/environ")
}

func readNulList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(string(b), "\x00"), nil
}

// freeBytes returns the space unprivileged users may still use on the
// file system of dir.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
