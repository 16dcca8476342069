//go:build !linux

package local

import "errors"

// Elsewhere New fails, so that none of the stubs below is reached.
var errUnsupported = errors.New("the local host provider needs Linux: it finds processes through /proc")

func supported() error { return errUnsupported }

type procInfo struct {
	pid   int
	pgid  int
	state byte
	start uint64
}

func (pi procInfo) dead() bool { return pi.state != 'R' }

func readStat(int) (procInfo, error)    { return procInfo{}, errUnsupported }
func listPIDs() ([]int, error)          { return nil, errUnsupported }
func procCwd(int) (string, error)       { return "", errUnsupported }
func procCmdline(int) ([]string, error) { return nil, errUnsupported }
func procEnviron(int) ([]string, error) { return nil, errUnsupported }
func freeBytes(string) (uint64, error)  { return 0, errUnsupported }
