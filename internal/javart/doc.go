// Package javart finds a Java runtime and its major version, for the
// runtimes that need one (internal/sparkrt, internal/hadooprt).
package javart
