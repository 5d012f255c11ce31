package docs

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// repoRoot is the repository's root, found from this source file.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// documents are the Markdown files whose links are checked: the README and
// everything under docs/.
func documents(fsys fs.FS) ([]string, error) {
	files := []string{"README.md"}
	err := fs.WalkDir(fsys, "docs", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// checkLinks returns a sentence for every relative link or anchor of files
// that does not resolve within fsys.
func checkLinks(fsys fs.FS, files []string) ([]string, error) {
	texts := map[string]string{}
	read := func(p string) (string, error) {
		if t, ok := texts[p]; ok {
			return t, nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", err
		}
		texts[p] = string(data)
		return texts[p], nil
	}
	var problems []string
	for _, file := range files {
		text, err := read(file)
		if err != nil {
			return nil, err
		}
		for _, l := range links(text) {
			if problem := checkLink(fsys, read, file, l.target); problem != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s", file, l.line, problem))
			}
		}
	}
	return problems, nil
}

// checkLink says what is wrong with one link target of file, or "".
func checkLink(fsys fs.FS, read func(string) (string, error), file, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Sprintf("link %q does not parse: %v", target, err)
	}
	if u.Scheme != "" || u.Host != "" {
		return "" // absolute: not this repository's to check
	}
	if target == "" {
		return "empty link"
	}
	dest := file
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			return fmt.Sprintf("link %q is absolute within the repository: GitHub resolves it against the host, write it relative", target)
		}
		dest = path.Clean(path.Join(path.Dir(file), u.Path))
		if dest == ".." || strings.HasPrefix(dest, "../") {
			return fmt.Sprintf("link %q leaves the repository", target)
		}
		if _, statErr := fs.Stat(fsys, dest); statErr != nil {
			return fmt.Sprintf("link %q: %s does not exist", target, dest)
		}
	}
	if u.Fragment == "" {
		return ""
	}
	if !strings.HasSuffix(dest, ".md") {
		return fmt.Sprintf("link %q has an anchor, but %s is not Markdown", target, dest)
	}
	text, err := read(dest)
	if err != nil {
		return fmt.Sprintf("link %q: reading %s: %v", target, dest, err)
	}
	if !anchors(text)[u.Fragment] {
		return fmt.Sprintf("link %q: %s has no heading or anchor %q", target, dest, "#"+u.Fragment)
	}
	return ""
}

// TestLinksResolve checks every relative link and anchor of README.md and
// docs/**/*.md.
func TestLinksResolve(t *testing.T) {
	fsys := os.DirFS(repoRoot())
	files, err := documents(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, "docs/README.md") || !slices.Contains(files, "docs/reference/api.md") {
		t.Fatalf("the documents checked are %v: the index docs/README.md or the API reference docs/reference/api.md is missing", files)
	}
	problems, err := checkLinks(fsys, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	checked := 0
	for _, f := range files {
		data, _ := fs.ReadFile(fsys, f)
		checked += len(links(string(data)))
	}
	t.Logf("%d links in %d files", checked, len(files))
}

// TestLinkChecker shows the checker finds each kind of broken link, and
// takes what GitHub resolves.
func TestLinkChecker(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md": {Data: []byte(strings.Join([]string{
			"# Title",
			"[ok](docs/guide.md) [ok](docs/guide.md#the-kubectl-klaxon-plugin) [ok](#title) [ok](https://example.com/x#y)",
			"[ok](docs/guide.md#heartbeats-dead-mans-switch) [ok](docs/guide.md#usage-1) [ok](docs/guide.md#here)",
			"[ok](docs/guide.md \"a title\") ![ok](docs/pic.png)",
			"[missing file](docs/gone.md)",
			"[missing anchor](docs/guide.md#nowhere)",
			"[missing local anchor](#nowhere)",
			"[anchor into an image](docs/pic.png#x)",
			"[outside](../elsewhere.md)",
			"`[in a code span](docs/gone.md)`",
			"```",
			"[in a code block](docs/gone.md)",
			"```",
		}, "\n"))},
		"docs/guide.md": {Data: []byte(strings.Join([]string{
			"# Guide",
			"## The `kubectl klaxon` plugin",
			"## Heartbeats (dead man's switch)",
			"## Usage",
			"## Usage",
			`<a name="here"></a>`,
			"```sh",
			"# not a heading",
			"```",
		}, "\n"))},
		"docs/pic.png": {Data: []byte("png")},
	}
	problems, err := checkLinks(fsys, []string{"README.md", "docs/guide.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`README.md:5: link "docs/gone.md": docs/gone.md does not exist`,
		`README.md:6: link "docs/guide.md#nowhere": docs/guide.md has no heading or anchor "#nowhere"`,
		`README.md:7: link "#nowhere": README.md has no heading or anchor "#nowhere"`,
		`README.md:8: link "docs/pic.png#x" has an anchor, but docs/pic.png is not Markdown`,
		`README.md:9: link "../elsewhere.md" leaves the repository`,
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Installing Klaxon":                   "installing-klaxon",
		"With kubectl (kustomize)":            "with-kubectl-kustomize",
		"Heartbeats (dead man's switch)":      "heartbeats-dead-mans-switch",
		"Metrics, dashboard and alerts":       "metrics-dashboard-and-alerts",
		"The `kubectl klaxon` plugin":         "the-kubectl-klaxon-plugin",
		"klaxon.dev/v1alpha1":                 "klaxondevv1alpha1",
		"Alerts in: Alertmanager, heartbeats": "alerts-in-alertmanager-heartbeats",
		"See [the guide](docs/x.md) now":      "see-the-guide-now",
		"Where it stands, and what limits it": "where-it-stands-and-what-limits-it",
		"snake_case and CamelCase":            "snake_case-and-camelcase",
		"Klaxon — design":                     "klaxon--design",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}
