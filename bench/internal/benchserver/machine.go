package benchserver

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes this machine: "2 cores, <CPU model>, Linux <kernel>".
func Machine() string {
	return fmt.Sprintf("%d cores, %s, Linux %s", runtime.NumCPU(), CPUModel(), Kernel())
}

// CPUModel returns the model name of the first CPU in /proc/cpuinfo, or
// "unknown CPU".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// Kernel returns the kernel release, or "unknown".
func Kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// LoadAvg returns the 1, 5 and 15 minute load averages, or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// GoVersion returns the Go version a binary was built with, or "unknown".
func GoVersion(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	return bi.GoVersion
}
