package password

import (
	"strings"
	"testing"
)

var testParams = Params{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}

func TestHashCheck(t *testing.T) {
	h, err := Hash("correct horse", testParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", h)
	}
	if ok, err := Check("correct horse", h); !ok || err != nil {
		t.Fatalf("Check(right) = %v, %v", ok, err)
	}
	if ok, err := Check("wrong horse", h); ok || err != nil {
		t.Fatalf("Check(wrong) = %v, %v", ok, err)
	}
	h2, _ := Hash("correct horse", testParams)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestNeedsRehash(t *testing.T) {
	h, _ := Hash("pw", testParams)
	if NeedsRehash(h, testParams) {
		t.Error("same params reported as needing a rehash")
	}
	if !NeedsRehash(h, DefaultParams) {
		t.Error("changed params not reported")
	}
}

func TestCheckMalformed(t *testing.T) {
	for _, h := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=8192,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=8192,t=0,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=8192,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$",
	} {
		if _, err := Check("pw", h); err == nil {
			t.Errorf("Check(%q) accepted a malformed hash", h)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, {MemoryKiB: 8192, Iterations: 0, Parallelism: 1}, {MemoryKiB: 8192, Iterations: 1}} {
		if p.Validate() == nil {
			t.Errorf("%v accepted", p)
		}
	}
}
