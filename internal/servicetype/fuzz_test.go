package servicetype

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzNormalize feeds any value to every parameter: a value Normalize
// takes is canonical (normalizing it again changes nothing), and a role
// rendered with it has well-formed Hadoop XML files.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"3", "true", "FALSE", "134217728", "8020", "dfs/dn,/abs/dn", "700", "<&>\"'", " 1 ", "-1", "1e3", "a,,b", "\x00"} {
		f.Add(s)
	}
	c, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	hdfs, _ := c.Type("HDFS")
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range c.Names() {
			st, _ := c.Type(name)
			for _, rtName := range append(st.RoleTypeNames(), "") {
				params := st.Params
				if rt, ok := st.RoleType(rtName); ok {
					params = rt.Params
				}
				for i := range params {
					p := &params[i]
					out, err := p.Normalize(v)
					if err != nil {
						continue
					}
					again, err := p.Normalize(out)
					if err != nil || again != out {
						t.Fatalf("%s.%s: Normalize(%q) = %q, then %q, %v", name, p.Name, v, out, again, err)
					}
				}
			}
		}
		perm, _ := hdfs.roles["DATANODE"].Param("dfs_datanode_data_dir_perm")
		out, err := perm.Normalize(v)
		if err != nil {
			return
		}
		in := hdfsTopology()
		in.Peers[1].Config = map[string]string{"dfs_datanode_data_dir_perm": out}
		specs, errs := hdfs.RenderAll(in)
		if len(errs) != 0 {
			return // a value Hadoop's XML cannot hold is refused, not rendered broken
		}
		for _, f := range specs["HDFS-1-DATANODE-1"].Files {
			if !strings.HasSuffix(f.Path, ".xml") {
				continue
			}
			d := xml.NewDecoder(strings.NewReader(f.Content))
			for {
				if _, err := d.Token(); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("%s is not well-formed XML with %q: %v\n%s", f.Path, out, err, f.Content)
					}
					break
				}
			}
		}
	})
}
