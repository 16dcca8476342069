package hadooprt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Log4jProperties is a log4j 1 (reload4j) configuration that sends every
// log line at INFO and above to stderr, where the control plane captures it.
// It leaves out what would flood that capture: the per-request HTTP log
// (every /jmx probe) and the NameNode's per-operation audit log, which
// Hadoop's own default configuration discards too.
const Log4jProperties = `# Written by herd: everything at INFO to stderr.
log4j.rootLogger=INFO,console
log4j.threshold=ALL
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.http.requests=WARN
log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
`

// WriteLog4j writes Log4jProperties as confDir/log4j.properties; with
// confDir first on the class path, log4j finds it without -D options.
func WriteLog4j(confDir string) error {
	return writeFileAtomic(filepath.Join(confDir, "log4j.properties"), []byte(Log4jProperties))
}

// WriteSiteXML writes props as a Hadoop configuration file (core-site.xml,
// hdfs-site.xml, ...) at path, the keys sorted, names and values
// XML-escaped. Hadoop expands ${name} in values itself; they are written
// as given. Text XML 1.0 cannot carry (most control characters) is an
// error rather than silently changed.
func WriteSiteXML(path string, props map[string]string) error {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Written by herd. -->\n<configuration>\n")
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("write %s: a property has an empty name", path)
		}
		if err := checkXMLText(k); err != nil {
			return fmt.Errorf("write %s: property name %q: %w", path, k, err)
		}
		if err := checkXMLText(props[k]); err != nil {
			return fmt.Errorf("write %s: value of %s: %w", path, k, err)
		}
		b.WriteString("  <property>\n    <name>")
		_ = xml.EscapeText(&b, []byte(k)) // writes to a bytes.Buffer cannot fail
		b.WriteString("</name>\n    <value>")
		_ = xml.EscapeText(&b, []byte(props[k]))
		b.WriteString("</value>\n  </property>\n")
	}
	b.WriteString("</configuration>\n")
	return writeFileAtomic(path, b.Bytes())
}

// checkXMLText refuses what XML 1.0 cannot carry: invalid UTF-8 and the
// characters outside its Char production.
func checkXMLText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		ok := r == 0x09 || r == 0x0A || r == 0x0D ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return fmt.Errorf("character %U cannot be written in XML", r)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so a daemon never reads half a file; it makes the parent
// directory if needed.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
