// Package docsnippet reads the configuration examples of the guides, so the
// tests that prove a configuration works run the very text a guide shows.
//
// A guide marks an example with an HTML comment on the line before its
// fenced code block:
//
//	<!-- snippet: pagerduty-alertmanager -->
//	```yaml
//	...
//	```
//
// Block returns the text between the fences.
package docsnippet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// Block returns the code block marked name in the guide at path (relative
// to the repository root), failing the test when there is none or more
// than one.
func Block(t testing.TB, path, name string) string {
	t.Helper()
	text, err := Find(filepath.Join(proc.RepoRoot(), path), name)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Find returns the code block marked name in the file at path.
func Find(path, name string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the guide: %w", err)
	}
	defer func() { _ = f.Close() }()
	marker := "<!-- snippet: " + name + " -->"
	var (
		found   []string
		lines   []string
		state   int // 0: looking for the marker, 1: for the opening fence, 2: in the block
		fence   string
		lineNum int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNum++
		line := sc.Text()
		switch state {
		case 0:
			if strings.TrimSpace(line) == marker {
				state = 1
			}
		case 1:
			trimmed := strings.TrimSpace(line)
			if !strings.HasPrefix(trimmed, "```") {
				return "", fmt.Errorf("%s:%d: snippet %q: the line after the marker must open a fenced code block", path, lineNum, name)
			}
			fence, lines, state = "```", nil, 2
		case 2:
			if strings.TrimSpace(line) == fence {
				found = append(found, strings.Join(lines, "\n")+"\n")
				state = 0
				continue
			}
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	switch {
	case state != 0:
		return "", fmt.Errorf("%s: snippet %q has no closing fence", path, name)
	case len(found) == 0:
		return "", fmt.Errorf("%s: no snippet %q (mark it with %q on the line before its code block)", path, name, marker)
	case len(found) > 1:
		return "", fmt.Errorf("%s: snippet %q is marked %d times", path, name, len(found))
	}
	return found[0], nil
}
