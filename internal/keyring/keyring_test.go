package keyring

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCreatesKeyFileOnce(t *testing.T) {
	dir := t.TempDir()
	k1, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", got)
	}
	k2, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID() != k2.ID() {
		t.Fatalf("second load made a new key: %s != %s", k1.ID(), k2.ID())
	}
}

func TestLoadRefusesOpenPermissions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, "")
	if err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("err = %v, want a complaint about permissions", err)
	}
}

func TestLoadFromEnvironment(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	k, err := Load(t.TempDir(), base64.StdEncoding.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := New(key)
	if k.ID() != want.ID() {
		t.Fatal("environment key not used")
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := Load(t.TempDir(), bad); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := New(bytes.Repeat([]byte{1}, 32))
	other, _ := New(bytes.Repeat([]byte{2}, 32))
	sealed, err := k.Seal("ctx/a", []byte("secret value"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret value")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := k.Open("ctx/a", sealed)
	if err != nil || string(got) != "secret value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	cases := map[string]func() error{
		"other context": func() error { _, err := k.Open("ctx/b", sealed); return err },
		"other key":     func() error { _, err := other.Open("ctx/a", sealed); return err },
		"tampered":      func() error { _, err := k.Open("ctx/a", tampered); return err },
		"truncated":     func() error { _, err := k.Open("ctx/a", sealed[:10]); return err },
	}
	for name, open := range cases {
		if open() == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}
