package plugin_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/apitest"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

const movingGuide = "docs/moving-in.md"

// pagerdutyFixture is a directory of saved PagerDuty answers.
func pagerdutyFixture(name string) string {
	return filepath.Join(proc.RepoRoot(), "internal", "importer", "pagerduty", "testdata", name)
}

// pagerdutyAPI answers as PagerDuty's REST API does, from saved answers.
func pagerdutyAPI(t *testing.T, dir string) *apitest.Server {
	return apitest.Serve(t, apitest.API{
		Authorized:   func(r *http.Request) bool { return r.Header.Get("Authorization") == "Token token=pd-key" },
		Unauthorized: `{"error":{"message":"Unauthorized","code":2006}}`,
		NotFound:     `{"error":{"message":"Not Found","code":2100}}`,
	}, dir)
}

// guideRun runs the "$ kubectl klaxon ..." line that opens a guide's
// block in dir and returns what a terminal shows: its output, then the
// error if it failed.
func guideRun(t *testing.T, block string, at time.Time) (cmdline, want, got string) {
	t.Helper()
	cmdline, want, _ = strings.Cut(block, "\n")
	args, ok := strings.CutPrefix(cmdline, "$ kubectl klaxon ")
	if !ok {
		t.Fatalf("the block does not open with a kubectl klaxon command: %q", cmdline)
	}
	r := kubectlKlaxonAt(cluster.AdminConfig, at, strings.Fields(args)...)
	got = r.out
	if r.err != nil {
		got += "error: " + r.err.Error() + "\n"
	}
	return cmdline, want, got
}

// The guide's import, and its verify of an approximated schedule, print
// what the guide shows.
func TestMovingGuideImports(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	for _, fx := range []struct{ snippet, answers, fixture string }{
		{"import-pagerduty", "pd-answers", "team"},
		{"import-pagerduty-differ", "pd-answers-lunch", "approximated"},
	} {
		t.Run(fx.snippet, func(t *testing.T) {
			if err := os.CopyFS(filepath.Join(work, fx.answers), os.DirFS(pagerdutyFixture(fx.fixture))); err != nil {
				t.Fatal(err)
			}
			cmdline, want, got := guideRun(t, docsnippet.Block(t, movingGuide, fx.snippet), time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s in %s prints (-guide +got):\n%s\nall of it:\n%s", cmdline, movingGuide, diff, got)
			}
		})
	}
}

// Importing over the API with --save-dir, as the guide shows, reads every
// page with the token from the environment and says so on stderr, and the
// saved answers import as the API's did.
func TestImportSavesTheAnswersItRead(t *testing.T) {
	api := pagerdutyAPI(t, pagerdutyFixture("team"))
	api.ThrottleOnce("schedules")
	work := t.TempDir()
	t.Chdir(work)
	block := docsnippet.Block(t, movingGuide, "import-pagerduty-save")
	lines := strings.Split(strings.TrimRight(block, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "$ export PAGERDUTY_TOKEN=..." {
		t.Fatalf("the guide's block does not set the token first:\n%s", block)
	}
	args, ok := strings.CutPrefix(lines[1], "$ kubectl klaxon ")
	if !ok {
		t.Fatalf("the guide's block does not run kubectl klaxon second: %q", lines[1])
	}
	// The stand-in answers where PagerDuty's API would.
	argv := append(strings.Fields(args), "--url", api.URL())
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	live := kubectlKlaxonEnv(cluster.AdminConfig, from, map[string]string{"PAGERDUTY_TOKEN": "pd-key"}, argv...)
	if live.err != nil {
		t.Fatalf("import over the API: %v\n%s", live.err, live.errOut)
	}
	// What the guide shows of stderr comes in that order.
	got := strings.Split(live.errOut, "\n")
	i := 0
	for _, want := range lines[2:] {
		if want == "..." {
			continue
		}
		for i < len(got) && got[i] != want {
			i++
		}
		if i == len(got) {
			t.Errorf("stderr lacks %q where the guide shows it:\n%s", want, live.errOut)
			break
		}
	}
	m, err := importer.ReadManifest("pd-answers")
	if err != nil || m.Source != "pagerduty" || !m.Window.From.Equal(from) || !m.Window.To.Equal(from.Add(28*24*time.Hour)) {
		t.Errorf("the saved manifest: %+v, %v", m, err)
	}
	offline := kubectlKlaxonAt(cluster.AdminConfig, from.Add(time.Hour), "import", "pagerduty", "--from-dir", "pd-answers")
	if offline.err != nil {
		t.Fatalf("import of the saved answers: %v", offline.err)
	}
	if diff := cmp.Diff(live.out, offline.out); diff != "" {
		t.Errorf("the saved answers import otherwise than the API's (-API +saved):\n%s", diff)
	}

	wrong := kubectlKlaxonEnv(cluster.AdminConfig, from, map[string]string{"PAGERDUTY_TOKEN": "stale"}, "import", "pagerduty", "--url", api.URL(), "--out", "other")
	if wrong.err == nil || !strings.Contains(wrong.err.Error(), "the API refused the token (401 Unauthorized)") {
		t.Errorf("a wrong token: %v", wrong.err)
	}
	if _, err := os.Stat("other"); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote --out: %v", err)
	}
	inside := kubectlKlaxonEnv(cluster.AdminConfig, from, map[string]string{"PAGERDUTY_TOKEN": "pd-key"}, "import", "pagerduty", "--url", api.URL(), "--save-dir", "klaxon-import/answers")
	if inside.err == nil || !strings.Contains(inside.err.Error(), "is inside --out klaxon-import") {
		t.Errorf("--save-dir inside --out: %v", inside.err)
	}
}

// --verify --cluster compares the operator's status.onCall with the
// source, and fails when they differ.
func TestImportVerifyCluster(t *testing.T) {
	ctx := context.Background()
	fixture := pagerdutyFixture("team")
	out := filepath.Join(t.TempDir(), "klaxon-import")
	at := time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC)
	if r := kubectlKlaxonAt(cluster.AdminConfig, at, "import", "pagerduty", "--from-dir", fixture, "--out", out); r.err != nil {
		t.Fatal(r.err)
	}
	ns := newNamespace(t)
	applyDir(t, out, ns)
	rec := controller.NewOnCallScheduleReconciler(k8s, &events.FakeRecorder{}, controller.WithClock(testingclock.NewFakePassiveClock(at)))
	var list klaxonv1alpha1.OnCallScheduleList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	reconcileAll := func() {
		for _, s := range list.Items {
			if _, err := rec.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&s)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	reconcileAll()
	r := kubectlKlaxonAt(cluster.AdminConfig, at, "import", "pagerduty", "--from-dir", fixture, "--out", out, "--verify", "--cluster", "-n", ns)
	if r.err != nil {
		t.Fatalf("--verify --cluster: %v\n%s", r.err, r.out)
	}
	for _, s := range list.Items {
		if !containsRowWith(r.out, s.Name, "agree") {
			t.Errorf("--cluster does not say the operator agrees on %s:\n%s", s.Name, r.out)
		}
	}

	// Someone edits a schedule in the cluster: the operator now has
	// another person on call, and --cluster says so.
	s := &list.Items[0]
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
		t.Fatal(err)
	}
	s.Spec.Layers = s.Spec.Layers[:1]
	s.Spec.Layers[0].Participants, s.Spec.Layers[0].Groups = []string{"someone-else"}, nil
	s.Spec.Layers[0].Restrictions, s.Spec.Layers[0].End = nil, ""
	s.Spec.Overrides = nil
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	reconcileAll()
	r = kubectlKlaxonAt(cluster.AdminConfig, at, "import", "pagerduty", "--from-dir", fixture, "--out", out, "--verify", "--cluster", "-n", ns)
	if r.err == nil || !strings.Contains(r.err.Error(), "the operator has other people on call than PagerDuty on 1 schedule") || !containsRowWith(r.out, s.Name, "someone-else", "DIFFER") {
		t.Errorf("--cluster after an edit: %v\n%s", r.err, r.out)
	}
}

// containsRowWith says whether a line of out holds every one of words.
func containsRowWith(out string, words ...string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		fields := strings.Fields(line)
		all := true
		for _, w := range words {
			if !containsWord(fields, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func containsWord(fields []string, w string) bool {
	for _, f := range fields {
		if strings.TrimSuffix(f, ",") == w {
			return true
		}
	}
	return false
}
