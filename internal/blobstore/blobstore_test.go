package blobstore

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestPutOpenDelete(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Put(strings.NewReader("hello"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size != 5 || b.SHA1 != "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" {
		t.Fatalf("blob %+v", b)
	}
	f, err := s.Open(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "hello" {
		t.Fatalf("content %q", got)
	}
	if err := s.Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(b.ID); err == nil {
		t.Fatal("deleted blob opened")
	}
	if err := s.Delete(b.ID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Open("../../etc/passwd"); err == nil {
		t.Fatal("malformed id accepted")
	}
}

type failing struct{ n int }

func (f *failing) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return copy(p, "xxxx"), nil
	}
	return 0, errors.New("connection reset")
}

func TestFailedPutLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if _, err := s.Put(strings.NewReader(strings.Repeat("x", 100)), 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	if _, err := s.Put(&failing{n: 3}, 0); err == nil {
		t.Fatal("failed read accepted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	// Exactly at the limit is fine.
	if _, err := s.Put(strings.NewReader(strings.Repeat("x", 10)), 10); err != nil {
		t.Fatal(err)
	}
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	a, _ := s.Put(strings.NewReader("a"), 0)
	b, _ := s.Put(strings.NewReader("b"), 0)
	os.WriteFile(dir+"/"+tmpPrefix+"123", []byte("partial"), 0o600)
	os.WriteFile(dir+"/README", []byte("not a blob"), 0o600)
	n, err := s.Sweep(func(id string) bool { return id == a.ID })
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if _, err := s.Open(a.ID); err != nil {
		t.Fatal("kept blob removed")
	}
	if _, err := s.Open(b.ID); err == nil {
		t.Fatal("orphan blob kept")
	}
	if _, err := os.Stat(dir + "/README"); err != nil {
		t.Fatal("foreign file removed")
	}
}
