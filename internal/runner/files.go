package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/herdhq/herd/internal/fileutil"
)

// SecretsRoot is where a run sees its secrets:
// SecretsRoot/<credential>/<key>, one file (mode 0400) per value.
const SecretsRoot = "/etc/dex/secrets"

// Names of the files the wrapper writes in a run's directory.
const (
	// PidFile holds the wrapper's host pid and start time, as JSON:
	// {"pid":1234,"start":567890,"pgid":1240,"isolated":false}. start is
	// field 22 of /proc/<pid>/stat (clock ticks since boot; 0 where there
	// is no procfs). pgid is the command's process group on the host, set
	// only when the run is not isolated. It is written once the command has
	// been started.
	PidFile = "pid"
	// ExitFile holds how the command ended, as JSON:
	// {"code":3} or {"code":-1,"signal":"killed"}, or
	// {"code":-1,"error":"..."} when the wrapper could not start the
	// command. It is written just before the wrapper exits.
	ExitFile = "exit"
)

// Exit is how a run ended.
type Exit struct {
	// Code is the exit status of the command; -1 if it was killed by a
	// signal, never started, or its end is unknown.
	Code int
	// Signal names the signal ("killed", "terminated", ...) that ended the
	// command or, when Known is false, the wrapper; empty otherwise.
	Signal string
	// Known is false when the wrapper died without writing its exit file
	// (killed with SIGKILL, machine crash): then Code is -1. An isolated
	// run's command dies with its wrapper; without isolation, Stop kills
	// the command's process group too.
	Known bool
	// Error is set when the wrapper could not start the command (bad
	// working directory, mount failure, ...). It never holds a secret.
	Error string
}

// pidRecord is the content of PidFile.
type pidRecord struct {
	Pid      int    `json:"pid"`
	Start    uint64 `json:"start"`
	Pgid     int    `json:"pgid,omitempty"`
	Isolated bool   `json:"isolated"`
}

// exitRecord is the content of ExitFile.
type exitRecord struct {
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ReadExit reads the exit file in dir, if there is one (and it is valid).
func ReadExit(dir string) (Exit, bool) {
	b, err := os.ReadFile(filepath.Join(dir, ExitFile))
	if err != nil {
		return Exit{}, false
	}
	var rec exitRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Exit{}, false
	}
	return Exit{Code: rec.Code, Signal: rec.Signal, Known: true, Error: rec.Error}, true
}

// readPid reads the pid file in dir; the error wraps os.ErrNotExist when
// there is none.
func readPid(dir string) (pidRecord, error) {
	var rec pidRecord
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Pid <= 0 {
		return rec, fmt.Errorf("runner: malformed pid file in %s", dir)
	}
	return rec, nil
}

func writeRecord(dir, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return fileutil.WriteFileAtomic(filepath.Join(dir, name), append(b, '\n'), 0o600)
}

// validName reports whether s may be a credential or key name, that is a
// single path element.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == 0 {
			return false
		}
	}
	return true
}

func validateSecrets(secrets map[string]map[string]string) error {
	for cred, keys := range secrets {
		if !validName(cred) {
			return fmt.Errorf("runner: invalid credential name %q", cred)
		}
		for key := range keys {
			if !validName(key) {
				return fmt.Errorf("runner: invalid secret key name %q in credential %q", key, cred)
			}
		}
	}
	return nil
}

// wrapperConfig is what the Runner passes to the wrapper through its config
// pipe, as JSON.
type wrapperConfig struct {
	Env     []string                     `json:"env"`
	Secrets map[string]map[string]string `json:"secrets,omitempty"`
}

// errMalformedConfig deliberately carries no detail: a JSON error could
// quote part of a secret.
var errMalformedConfig = errors.New("malformed wrapper config JSON")
