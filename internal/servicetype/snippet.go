package servicetype

import (
	"encoding/xml"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// snippetName is what a property or variable name may be.
var snippetName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]*$`)

// ParseSnippet reads a configuration snippet: <property> elements with
// name and value (Cloudera Manager's safety-valve form for XML files), or
// name=value lines (blank lines and lines starting with # are skipped; a
// leading "export " is dropped; double quotes around a value are removed).
func ParseSnippet(v string) (map[string]string, error) {
	props := map[string]string{}
	t := strings.TrimSpace(v)
	if t == "" {
		return props, nil
	}
	if strings.HasPrefix(t, "<") {
		var doc struct {
			Props []struct {
				Name  string `xml:"name"`
				Value string `xml:"value"`
			} `xml:"property"`
		}
		if err := xml.Unmarshal([]byte("<configuration>"+t+"</configuration>"), &doc); err != nil {
			return nil, fmt.Errorf("not a list of <property> elements: %w", err)
		}
		for _, p := range doc.Props {
			if !snippetName.MatchString(p.Name) {
				return nil, fmt.Errorf("property name %q is not valid", p.Name)
			}
			props[p.Name] = p.Value
		}
		return props, nil
	}
	for i, line := range strings.Split(t, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !snippetName.MatchString(name) {
			return nil, fmt.Errorf("line %d: want name=value, have %q", i+1, line)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		props[name] = value
	}
	return props, nil
}

// FormatSnippet writes properties as a snippet, sorted by name: as
// <property> elements when asXML, else as name=value lines.
func FormatSnippet(props map[string]string, asXML bool) string {
	if !asXML {
		return keyValues(props, "%s=%s\n")
	}
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(props)) {
		b.WriteString("<property><name>")
		_ = xml.EscapeText(&b, []byte(n))
		b.WriteString("</name><value>")
		_ = xml.EscapeText(&b, []byte(props[n]))
		b.WriteString("</value></property>\n")
	}
	return b.String()
}
