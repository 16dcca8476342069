package hostprovider

import (
	"context"
	"errors"
	"time"
)

// VMSpec asks for one virtual machine.
type VMSpec struct {
	// InstanceID names the VM; unique, chosen by the caller.
	InstanceID string
	// Name is the VM's name, e.g. HadoopMST-mycluster-1; it is also the
	// host name its agent reports.
	Name   string
	Flavor Flavor
	// VolumeGB is the size of the VM's data volume, in GB.
	VolumeGB int
	// Agent is what the VM's host agent needs to join the server.
	Agent AgentJoin
}

// AgentJoin is how a VM's host agent reaches the server.
type AgentJoin struct {
	ServerURL string
	Token     string // a host token
}

// Flavor is a VM size.
type Flavor struct {
	Name        string
	Cores       int
	MemoryBytes int64
}

// VM is a VM the provider made.
type VM struct {
	InstanceID string
	Name       string
	// Address is the VM's private IP address; its agent registers with it.
	Address   string
	CreatedAt time.Time
}

// ErrNotFound is returned for a VM the provider does not know.
var ErrNotFound = errors.New("vm not found")

// Provider makes and removes the machines of clusters. Implementations
// keep what they need to find their VMs again after a server restart.
type Provider interface {
	// Name is the provider's name, e.g. "local".
	Name() string
	// Create makes a VM and starts its host agent. When Create fails,
	// nothing of the VM is left.
	Create(ctx context.Context, spec VMSpec) (VM, error)
	// Exec runs a shell script on a VM as a user script and returns its
	// combined output; err is non-nil when it could not run or exited
	// non-zero.
	Exec(ctx context.Context, instanceID string, script []byte) (output []byte, err error)
	// Destroy removes a VM with everything that runs on it and its data.
	// Destroying a VM that is gone is not an error.
	Destroy(ctx context.Context, instanceID string) error
	// Check reports whether the VM's host agent is running, starting it
	// again when the VM exists but its agent does not run (after a
	// server or machine restart). ErrNotFound when the VM is unknown.
	Check(ctx context.Context, instanceID string) error
}

// Flavors maps flavor names to sizes.
type Flavors map[string]Flavor
