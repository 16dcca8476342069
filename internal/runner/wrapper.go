//go:build unix

package runner

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// WrapperCommand is the first argument of a wrapper process: the herd
// binary's hidden subcommand, and what MaybeWrapper looks for.
const WrapperCommand = "runner-wrapper"

// envWrapper marks a process started as a wrapper; the wrapper removes it
// from its environment, so the command never inherits it.
const envWrapper = "HERD_RUNNER_WRAPPER"

// Exit codes of the wrapper itself when it could not run the command.
const (
	codeUsage = 2
	codeSetup = 125
)

// maxConfigJSON bounds what the wrapper reads from the config pipe.
const maxConfigJSON = 64 << 20

// MaybeWrapper runs WrapperMain and exits the process when the current
// process was started by a Runner as a wrapper (os.Args[1] is WrapperCommand
// and the marker environment variable is set); otherwise it returns at once.
// Call it first thing in main, and in TestMain of packages whose tests start
// runs with the test binary as the wrapper.
func MaybeWrapper() {
	if os.Getenv(envWrapper) != "1" || len(os.Args) < 2 || os.Args[1] != WrapperCommand {
		return
	}
	os.Exit(WrapperMain(os.Args[2:]))
}

// WrapperMain is the main of a wrapper process, given the arguments after
// WrapperCommand; it returns the process's exit code: the command's, or
// 128+n when the command was killed by signal n, or 125 when the command
// could not be started. Arguments:
//
//	-dir DIR [-cwd DIR] -config-fd N [-isolate] -- COMMAND [ARG...]
//	-probe
//
// The wrapper reads the command's environment and secrets as JSON from the
// inherited fd N, then closes it. The command's stdin is the wrapper's (the
// Runner makes it /dev/null), its stdout and stderr are the wrapper's.
func WrapperMain(args []string) int {
	_ = os.Unsetenv(envWrapper)
	// Before anything else, so that a SIGTERM is never lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	w := &wrapper{sigs: sigs}
	fset := flag.NewFlagSet(WrapperCommand, flag.ContinueOnError)
	fset.SetOutput(os.Stderr)
	fset.StringVar(&w.dir, "dir", "", "the run's directory (pid and exit files)")
	fset.StringVar(&w.cwd, "cwd", "", "working directory of the command")
	fset.BoolVar(&w.isolate, "isolate", false, "private mount and pid namespaces (the wrapper is pid 1)")
	fset.IntVar(&w.configFD, "config-fd", -1, "inherited fd to read the command's environment and secrets (JSON) from")
	probe := fset.Bool("probe", false, "check that isolation works, and exit")
	if err := fset.Parse(args); err != nil {
		return codeUsage
	}
	if *probe {
		if err := probeInWrapper(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	w.argv = fset.Args()
	if w.dir == "" || w.configFD < 0 || len(w.argv) == 0 {
		fmt.Fprintln(os.Stderr, "herd runner wrapper: -dir, -config-fd and a command are required")
		return codeUsage
	}
	if w.cwd == "" {
		w.cwd = w.dir
	}
	return w.run()
}

type wrapper struct {
	dir, cwd string
	isolate  bool
	configFD int
	argv     []string
	sigs     chan os.Signal
}

// run sets up, runs the command, and records how it ended.
func (w *wrapper) run() int {
	child, err := w.startCommand()
	var early earlySignal
	switch {
	case errors.As(err, &early):
		w.writeExit(exitRecord{Code: -1, Signal: early.sig.String()})
		return 128 + int(early.sig)
	case err != nil:
		fmt.Fprintf(os.Stderr, "herd runner wrapper: %v\n", err)
		w.writeExit(exitRecord{Code: -1, Error: err.Error()})
		return codeSetup
	}

	go func() {
		for s := range w.sigs {
			_ = syscall.Kill(-child, s.(syscall.Signal))
		}
	}()
	ws, err := reap(child)
	signal.Stop(w.sigs)
	// Nothing the command left in its process group outlives it. (When
	// isolated, the kernel kills the rest of the namespace when we exit.)
	_ = syscall.Kill(-child, syscall.SIGKILL)
	if err != nil {
		w.writeExit(exitRecord{Code: -1, Error: "wait for command: " + err.Error()})
		return codeSetup
	}
	switch {
	case ws.Signaled():
		w.writeExit(exitRecord{Code: -1, Signal: ws.Signal().String()})
		return 128 + int(ws.Signal())
	default:
		w.writeExit(exitRecord{Code: ws.ExitStatus()})
		return ws.ExitStatus()
	}
}

// earlySignal reports a SIGTERM or SIGINT received before the command was
// started, which is then not started at all.
type earlySignal struct{ sig syscall.Signal }

func (e earlySignal) Error() string {
	return "received " + e.sig.String() + " before starting the command"
}

// startCommand prepares the run (namespaces, secrets), starts the command in
// its own process group and writes the pid file.
func (w *wrapper) startCommand() (int, error) {
	conf, err := readConfig(w.configFD)
	if err != nil {
		return 0, err
	}
	if len(conf.Secrets) > 0 && !w.isolate {
		return 0, errors.New("secrets need -isolate")
	}
	hostPid, start, err := w.prepare(conf.Secrets)
	clear(conf.Secrets)
	if err != nil {
		return 0, err
	}
	select {
	case s := <-w.sigs:
		return 0, earlySignal{s.(syscall.Signal)}
	default:
	}
	if fi, err := os.Stat(w.cwd); err != nil {
		return 0, fmt.Errorf("working directory: %w", err)
	} else if !fi.IsDir() {
		return 0, fmt.Errorf("working directory %s is not a directory", w.cwd)
	}
	// The command gets fds 0, 1 and 2 only, not whatever the server had
	// inherited without close-on-exec.
	closeOnExecFrom3()
	child, err := syscall.ForkExec(w.argv[0], w.argv, &syscall.ProcAttr{
		Dir:   w.cwd,
		Env:   conf.Env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", w.argv[0], err)
	}
	rec := pidRecord{Pid: hostPid, Start: start, Isolated: w.isolate}
	if !w.isolate {
		rec.Pgid = child
	}
	if err := writeRecord(w.dir, PidFile, rec); err != nil {
		_ = syscall.Kill(-child, syscall.SIGKILL)
		_, _ = reap(child)
		return 0, fmt.Errorf("write pid file: %w", err)
	}
	return child, nil
}

// reap waits for children, reaping every one (as pid 1 of a namespace the
// wrapper inherits orphans), until child has exited.
func reap(child int) (syscall.WaitStatus, error) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return ws, err
		}
		if pid == child {
			return ws, nil
		}
	}
}

// closeOnExecFrom3 marks every open fd above 2 close-on-exec.
func closeOnExecFrom3() {
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func (w *wrapper) writeExit(rec exitRecord) {
	if err := writeRecord(w.dir, ExitFile, rec); err != nil {
		fmt.Fprintf(os.Stderr, "herd runner wrapper: write exit file: %v\n", err)
	}
}

// readConfig reads and validates the config JSON from the inherited fd and
// closes it.
func readConfig(fd int) (wrapperConfig, error) {
	var conf wrapperConfig
	f := os.NewFile(uintptr(fd), "config")
	if f == nil {
		return conf, fmt.Errorf("config fd %d is not open", fd)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfigJSON+1))
	f.Close()
	defer clear(b)
	if err != nil {
		return conf, fmt.Errorf("read config: %w", err)
	}
	if len(b) > maxConfigJSON {
		return conf, errors.New("config JSON too large")
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		return conf, errMalformedConfig
	}
	return conf, validateSecrets(conf.Secrets)
}
