package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/herdhq/herd/internal/fileutil"
)

// stateFile is the name of a role's persisted state, in its directory.
const stateFile = "state.json"

// roleState is what the agent last did to a role, kept across its own
// restarts.
type roleState struct {
	// StartSeq is the StartSeq of the last ordered start; Started says
	// that a start was made (or begun) for it.
	StartSeq int64 `json:"startSeq"`
	Started  bool  `json:"started"`
	// ConfigHash is the ConfigHash of the spec the process was started with.
	ConfigHash string `json:"configHash,omitempty"`
	// RefreshHash is the Refresh.Hash the process has applied.
	RefreshHash string    `json:"refreshHash,omitempty"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	// Restarts counts automatic restarts since the last ordered start.
	Restarts int `json:"restarts"`
	// Stopped says that the agent stopped the process on purpose (so its
	// end is not an exit).
	Stopped bool `json:"stopped,omitempty"`
}

// readRoleState reads dir's state; ok is false when there is none.
func readRoleState(dir string) (st roleState, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read role state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return roleState{}, false, fmt.Errorf("read role state: %s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, true, nil
}

// writeRoleState writes dir's state atomically.
func writeRoleState(dir string, st roleState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := fileutil.WriteFileAtomic(filepath.Join(dir, stateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write role state: %w", err)
	}
	return nil
}
