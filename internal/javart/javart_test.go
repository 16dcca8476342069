package javart

import "testing"

func TestParseVersion(t *testing.T) {
	for out, want := range map[string]int{
		`openjdk version "17.0.15" 2025-04-15`: 17,
		`openjdk version "21" 2023-09-19`:      21,
		`java version "1.8.0_392"`:             8,
		`nonsense`:                             0,
	} {
		if got := ParseVersion(out); got != want {
			t.Errorf("ParseVersion(%q) = %d, want %d", out, got, want)
		}
	}
}
