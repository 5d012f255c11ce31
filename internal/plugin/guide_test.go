package plugin_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// pluginGuide is the page whose schedule examples TestPluginGuideSchedules
// runs, and guideSection the section that holds them.
const (
	pluginGuide  = "docs/plugin.md"
	guideSection = "## Schedules and overrides"
)

// guideStep is one "$ kubectl klaxon ..." line of the guide and the output
// printed under it.
type guideStep struct {
	line int
	args []string
	// as is who runs it ("# as erin"); empty is the admin.
	as   string
	want string
}

var asComment = regexp.MustCompile(`\s+#\s*as\s+([a-z]+)\s*$`)

// guideSteps reads the section's code blocks in order: the commands with
// their output, and the YAML of the schedule they run against.
func guideSteps(t *testing.T) ([]guideStep, string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "..", "..", pluginGuide))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var (
		steps                   []guideStep
		inSection, fence, block bool
		inYAML                  bool
		yamlText                strings.Builder
		out                     []string
	)
	flush := func() {
		if len(steps) > 0 && out != nil {
			steps[len(steps)-1].want = strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
		}
		out = nil
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			inSection = l == guideSection
		case !inSection:
		case strings.HasPrefix(l, "```"):
			// Plain blocks hold commands and output; yaml and sh ones do not.
			flush()
			fence = !fence
			block = fence && l == "```"
			inYAML = fence && l == "```yaml"
		case inYAML:
			yamlText.WriteString(l + "\n")
		case !block:
		case strings.HasPrefix(l, "$ kubectl klaxon "):
			flush()
			cmdline := strings.TrimPrefix(l, "$ kubectl klaxon ")
			s := guideStep{line: n}
			if m := asComment.FindStringSubmatch(cmdline); m != nil {
				s.as, cmdline = m[1], cmdline[:len(cmdline)-len(m[0])]
			}
			s.args = splitWords(t, cmdline)
			steps = append(steps, s)
			out = []string{}
		case out != nil:
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps, yamlText.String()
}

// splitWords splits a command line at spaces outside double quotes.
func splitWords(t *testing.T, s string) []string {
	t.Helper()
	var (
		words  []string
		word   strings.Builder
		quoted bool
		inWord bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// overrideSuffix is the random part of a created override's name.
var overrideSuffix = regexp.MustCompile(`(-(?:add|replace|remove|cover))-[a-z0-9]{5}\b`)

// The schedule commands in the plugin guide print what the guide shows,
// run in order against the API server at the tests' now (Mon 23 Nov 2026,
// 13:00 in Berlin), as the user each names.
func TestPluginGuideSchedules(t *testing.T) {
	steps, scheduleYAML := guideSteps(t)
	if len(steps) < 8 {
		t.Fatalf("found %d commands in %s's %q, want the section's examples", len(steps), pluginGuide, guideSection)
	}
	ns := newNamespace(t)
	s := berlinRotation(t, ns)
	var shown klaxonv1alpha1.OnCallSchedule
	if err := yaml.UnmarshalStrict([]byte(scheduleYAML), &shown); err != nil {
		t.Fatalf("the schedule in %s: %v", pluginGuide, err)
	}
	if diff := cmp.Diff(s.Spec, shown.Spec); diff != "" {
		t.Errorf("the schedule %s shows is not the one the commands run against (-run +shown):\n%s", pluginGuide, diff)
	}
	// As the operator would find it, so READY reads True.
	apimeta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: klaxonv1alpha1.ConditionReady,
		Status: metav1.ConditionTrue, Reason: "Valid", Message: "The schedule is valid", ObservedGeneration: s.Generation})
	if err := k8s.Status().Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	users := map[string]*rest.Config{"": cluster.AdminConfig}
	for _, step := range steps {
		cfg, ok := users[step.as]
		if !ok {
			cfg = userConfig(t, step.as)
			users[step.as] = cfg
		}
		got := mustRun(t, cfg, append(step.args, "-n", ns)...)
		got = overrideSuffix.ReplaceAllString(got, "$1-xxxxx")
		want := overrideSuffix.ReplaceAllString(step.want, "$1-xxxxx")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s:%d: kubectl klaxon %s (-guide +printed):\n%s\nprinted:\n%s", pluginGuide, step.line,
				strings.Join(step.args, " "), diff, got)
		}
	}
}
