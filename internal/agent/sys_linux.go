package agent

import "syscall"

// initSysProcAttr is how an init step is started: in its own process group
// (killed as a whole when the agent stops), and killed if the agent dies,
// so that the next agent never runs it twice at once.
func initSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
