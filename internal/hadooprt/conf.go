package hadooprt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herdhq/herd/internal/fileutil"
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
	return writeFile(filepath.Join(confDir, "log4j.properties"), []byte(Log4jProperties))
}

// WriteSiteXML writes props as a Hadoop configuration file (core-site.xml,
// hdfs-site.xml, ...) at path; see SiteXML.
func WriteSiteXML(path string, props map[string]string) error {
	b, err := SiteXML(props)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeFile(path, b)
}

// SiteXML renders props as a Hadoop configuration file, the keys sorted,
// names and values XML-escaped. Hadoop expands ${name} in values itself;
// they are written as given. Text XML 1.0 cannot carry (most control
// characters) is an error rather than silently changed.
func SiteXML(props map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Written by herd. -->\n<configuration>\n")
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if strings.TrimSpace(k) == "" {
			return nil, errors.New("a property has an empty name")
		}
		if err := checkXMLText(k); err != nil {
			return nil, fmt.Errorf("property name %q: %w", k, err)
		}
		if err := checkXMLText(props[k]); err != nil {
			return nil, fmt.Errorf("value of %s: %w", k, err)
		}
		b.WriteString("  <property><name>")
		_ = xml.EscapeText(&b, []byte(k)) // writes to a bytes.Buffer cannot fail
		b.WriteString("</name><value>")
		_ = xml.EscapeText(&b, []byte(props[k]))
		b.WriteString("</value></property>\n")
	}
	b.WriteString("</configuration>\n")
	return b.Bytes(), nil
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

// writeFile writes a config file atomically, making its directory first, so
// a daemon never reads half a file.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := fileutil.WriteFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
