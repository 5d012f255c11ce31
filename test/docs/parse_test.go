package docs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitCommands(t *testing.T) {
	lines := []string{
		"make dev    # it's a comment, quote and all",
		"",
		"kubectl apply -f - <<'YAML'",
		"kind: Incident",
		"  title: \"it's here\"",
		"YAML",
		"kubectl patch inc x -p '[{\"op\":\"add\",\"value\":[",
		"  {\"message\":\"Rolled back.\"}]}]'",
		"echo one \\",
		"  two",
		`echo "a \" quote" # and # more`,
	}
	want := []command{
		{text: "make dev    # it's a comment, quote and all", line: 10},
		{text: "kubectl apply -f - <<'YAML'\nkind: Incident\n  title: \"it's here\"\nYAML", line: 12},
		{text: "kubectl patch inc x -p '[{\"op\":\"add\",\"value\":[\n  {\"message\":\"Rolled back.\"}]}]'", line: 16},
		{text: "echo one \\\n  two", line: 18},
		{text: `echo "a \" quote" # and # more`, line: 20},
	}
	if got := splitCommands(lines, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("splitCommands:\n%#v\nwant\n%#v", got, want)
	}
}

func TestParseTour(t *testing.T) {
	readme := strings.Join([]string{
		"```sh",
		"kubectl get inc",
		"```",
		"",
		"```",
		"NAME   AGE",
		"```",
		"",
		"```sh",
		"$ kubectl patch inc x -p '{",
		"  }'",
		"The Incident \"x\" is invalid",
		"$ kubectl get inc",
		"```",
		"Prose between.",
		"```",
		"not an output: prose came first",
		"```",
	}, "\n")
	tour, err := parseTour(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []tourBlock{
		{line: 1, cmds: []command{{text: "kubectl get inc", line: 2}}, want: []string{"NAME   AGE"}},
		{line: 9, prompted: true,
			cmds:  []command{{text: "kubectl patch inc x -p '{\n  }'", line: 10}, {text: "kubectl get inc", line: 13}},
			wants: [][]string{{`The Incident "x" is invalid`}, nil}},
	}
	if !reflect.DeepEqual(tour, want) {
		t.Errorf("parseTour:\n%+v\nwant\n%+v", tour, want)
	}
}

// TestReadmeTourParses checks, without a control plane, that the README's
// commands are ones the tour test can run or knowingly skips.
func TestReadmeTourParses(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tour, err := parseTour(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(tour) == 0 {
		t.Fatal("the README has no sh block")
	}
	for _, b := range tour {
		if len(b.cmds) == 0 {
			t.Errorf("README line %d: an sh block without a command", b.line)
		}
		for _, c := range b.cmds {
			if skipReason(c.text) == "" && !strings.HasPrefix(c.text, "kubectl ") && !strings.HasPrefix(c.text, "export ") {
				t.Errorf("README line %d: %q is neither kubectl nor an export, nor on the skip list with its reason", c.line, firstLine(c.text))
			}
		}
	}
}

func TestMatchLines(t *testing.T) {
	got := "incident.klaxon.dev/checkout-errors created\n" +
		"NAME              SEVERITY   PHASE       TITLE    COMMANDER   AGE\n" +
		"checkout-errors   SEV2       Triggered   Broken               0s\n" +
		"checkout-latency  SEV2       Acknowledged   Slow  alice       12m\n"
	for _, tc := range []struct {
		name string
		want []string
		ok   bool
	}{
		{"widths and ages differ", []string{"NAME   SEVERITY PHASE TITLE COMMANDER AGE", "checkout-errors SEV2 Triggered Broken 3s"}, true},
		{"lines skipped between", []string{"NAME SEVERITY PHASE TITLE COMMANDER AGE", "checkout-latency SEV2 Acknowledged Slow alice 2m"}, true},
		{"a value differs", []string{"checkout-errors SEV2 Acknowledged Broken 3s"}, false},
		{"an empty column is filled", []string{"checkout-latency SEV2 Acknowledged Slow 2m"}, false},
		{"an age stands for a value", []string{"checkout-errors SEV2 Triggered 5s 3s"}, false},
		{"out of order", []string{"checkout-latency SEV2 Acknowledged Slow alice 2m", "checkout-errors SEV2 Triggered Broken 3s"}, false},
	} {
		if err := matchLines(tc.want, got); (err == nil) != tc.ok {
			t.Errorf("%s: matchLines = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
