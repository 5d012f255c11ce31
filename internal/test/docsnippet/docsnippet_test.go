package docsnippet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	guide := "# Guide\n\n<!-- snippet: one -->\n```yaml\na: 1\nb: 2\n```\n\n<!-- snippet: twice -->\n```\nx\n```\n<!-- snippet: twice -->\n```\ny\n```\n<!-- snippet: bare -->\ntext\n<!-- snippet: open -->\n```\nz\n"
	path := filepath.Join(t.TempDir(), "guide.md")
	if err := os.WriteFile(path, []byte(guide), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Find(path, "one")
	if err != nil || got != "a: 1\nb: 2\n" {
		t.Fatalf("Find(one) = %q, %v; want the block's two lines", got, err)
	}
	for name, want := range map[string]string{
		"missing": "no snippet",
		"twice":   "marked 2 times",
		"bare":    "must open a fenced code block",
		"open":    "no closing fence",
	} {
		if _, err := Find(path, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Find(%s) error = %v; want one containing %q", name, err, want)
		}
	}
}
