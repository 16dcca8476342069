// Package fileutil holds small file-system helpers shared by Herd's packages.
package fileutil
