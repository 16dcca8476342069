package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/herdhq/herd/internal/fileutil"
)

// identityFile holds the host id and secret, in DataDir.
const identityFile = "agent.json"

// identity is what the server gave the agent when it registered.
type identity struct {
	HostID string `json:"hostId"`
	Secret string `json:"secret"`
	// Server is the URL the identity was obtained from, for the reader.
	Server string `json:"server,omitempty"`
}

// bearer is the credential of calls after registration.
func (id identity) bearer() string { return id.HostID + ":" + id.Secret }

func identityPath(dataDir string) string { return filepath.Join(dataDir, identityFile) }

// loadIdentity reads the identity; a missing file is the zero identity.
func loadIdentity(dataDir string) (identity, error) {
	var id identity
	b, err := os.ReadFile(identityPath(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return id, nil
	}
	if err != nil {
		return id, fmt.Errorf("read identity: %w", err)
	}
	if err := json.Unmarshal(b, &id); err != nil || id.HostID == "" || id.Secret == "" {
		return identity{}, fmt.Errorf("read identity: %s is malformed; remove it to register the host anew", identityPath(dataDir))
	}
	return id, nil
}

// saveIdentity writes the identity atomically, mode 0600.
func saveIdentity(dataDir string, id identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	if err := fileutil.WriteFileAtomic(identityPath(dataDir), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	return nil
}
