//go:build !linux

package agent

import "syscall"

// initSysProcAttr is how an init step is started: in its own process group
// (killed as a whole when the agent stops).
func initSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
