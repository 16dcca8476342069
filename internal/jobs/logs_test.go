package jobs

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRedactor(t *testing.T) {
	secrets := [][]byte{[]byte("s3cret-value"), []byte("dbpass123")}
	in := "start s3cret-value middle dbpass123dbpass123 s3cret-valu end s3cret-value"
	want := "start ***** middle ********** s3cret-valu end *****"
	for name, r := range map[string]io.Reader{
		"whole":       strings.NewReader(in),
		"byte by one": iotest.OneByteReader(strings.NewReader(in)),
		"half":        iotest.HalfReader(strings.NewReader(in)),
	} {
		got, err := io.ReadAll(redactor(io.NopCloser(r), secrets))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	// Across 32 KiB reads.
	big := strings.Repeat("x", 32<<10-5) + "s3cret-value" + strings.Repeat("y", 10)
	got, _ := io.ReadAll(redactor(io.NopCloser(strings.NewReader(big)), secrets))
	if strings.Contains(string(got), "s3cret") || len(got) != len(big)-len("s3cret-value")+len(Redacted) {
		t.Fatalf("secret across a read boundary not redacted")
	}
}

func FuzzRedactor(f *testing.F) {
	f.Add("some log with secret inside", "secret")
	f.Add("aaaa", "aa")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if len(secret) < minRedacted || strings.Contains(secret, Redacted) || strings.Contains(Redacted, secret[:1]) {
			return
		}
		got, err := io.ReadAll(redactor(io.NopCloser(iotest.HalfReader(strings.NewReader(text))), [][]byte{[]byte(secret)}))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), secret) {
			t.Fatalf("%q still holds %q", got, secret)
		}
		if !strings.Contains(text, secret) && string(got) != text {
			t.Fatalf("text without the secret changed: %q -> %q", text, got)
		}
	})
}
