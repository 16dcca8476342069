package jobs

import (
	"strings"
	"testing"
)

func TestBuildEnvDropsHerdVariables(t *testing.T) {
	got := buildEnv([]string{"PATH=/bin", "HERD_MASTER_KEY=secret", "HTTPS_PROXY=http://proxy", "HERD_CONFIG=x"})
	if strings.Join(got, " ") != "PATH=/bin HTTPS_PROXY=http://proxy" {
		t.Fatalf("build environment %q", got)
	}
}
