package agent

import (
	"context"

	"github.com/herdhq/herd/internal/hadooprt"
)

// discoverHadoop finds the Hadoop runtime with internal/hadooprt.
func discoverHadoop(ctx context.Context, home string, getenv func(string) string) (*hadoopRuntime, error) {
	rt, err := hadooprt.Discover(ctx, hadooprt.Config{Home: home, Getenv: getenv})
	if err != nil {
		return nil, err
	}
	return &hadoopRuntime{home: rt.Home, javaHome: rt.JavaHome, version: rt.Version, javaArgs: rt.JavaArgs}, nil
}
