//go:build !hadooprt

package agent

import (
	"context"
	"errors"
)

// discoverHadoop is a stand-in until internal/hadooprt exists.
func discoverHadoop(context.Context, string, func(string) string) (*hadoopRuntime, error) {
	return nil, errors.New("no Hadoop runtime")
}
