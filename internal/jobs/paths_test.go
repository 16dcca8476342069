package jobs

import "testing"

func TestCleanFilePath(t *testing.T) {
	good := []string{"a", "a/b.py", "code/spark_geospatial.py", "x-1_2.jar", "dir/%41.txt", "über.txt"}
	bad := []string{
		"", "/abs", "..", "a/..", "../a", "a/../b", ".", "./a", "a//b", "a/", `a\b`, "a\x00b", "a\nb",
		"%2e%2e/x", "a/%2E%2e", "%2E", string([]byte{0xff}),
	}
	for _, p := range good {
		if _, err := CleanFilePath(p); err != nil {
			t.Errorf("CleanFilePath(%q): %v", p, err)
		}
	}
	for _, p := range bad {
		if _, err := CleanFilePath(p); err == nil {
			t.Errorf("CleanFilePath(%q) accepted", p)
		}
	}
}

func TestCleanDirPrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "code": "code/", "/code": "code/", "code/": "code/", "a/b/": "a/b/"} {
		got, err := CleanDirPrefix(in)
		if err != nil || got != want {
			t.Errorf("CleanDirPrefix(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"../x", "a/../b", "a//b", `a\b`} {
		if _, err := CleanDirPrefix(in); err == nil {
			t.Errorf("CleanDirPrefix(%q) accepted", in)
		}
	}
}

func FuzzCleanFilePath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "%2e%2e", "a//b", "/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if _, err := CleanFilePath(p); err != nil {
			return
		}
		// Whatever passes stays inside the directory it is joined to.
		for _, seg := range splitAll(p) {
			if seg == ".." || seg == "." || seg == "" {
				t.Fatalf("%q accepted with segment %q", p, seg)
			}
		}
		if p[0] == '/' {
			t.Fatalf("absolute %q accepted", p)
		}
	})
}

func splitAll(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}
