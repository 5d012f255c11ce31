package plugin_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/grafanaoncall"
	"github.com/klaxon-dev/klaxon/internal/importer/opsgenie"
	"github.com/klaxon-dev/klaxon/internal/importer/pagerduty"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// importFixture is a directory of saved API answers of one tool, from the
// importers' tests.
type importFixture struct {
	dir      string
	manifest importer.Manifest
	provider importer.Provider
}

func importFixtures(t *testing.T) []importFixture {
	t.Helper()
	manifests, err := filepath.Glob(filepath.Join(proc.RepoRoot(), "internal", "importer", "*", "testdata", "*", importer.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]importer.Provider{}
	for _, p := range []importer.Provider{grafanaoncall.Provider, pagerduty.Provider, opsgenie.Provider} {
		providers[p.Name] = p
	}
	var out []importFixture
	for _, path := range manifests {
		dir := filepath.Dir(path)
		m, err := importer.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := providers[m.Source]
		if !ok {
			t.Fatalf("%s: unknown source %q", path, m.Source)
		}
		out = append(out, importFixture{dir: dir, manifest: m, provider: p})
	}
	if len(out) == 0 {
		t.Fatal("no import fixtures found")
	}
	return out
}

// applyDir creates every object of an import's directory in ns, as
// kubectl apply -R -f would.
func applyDir(t *testing.T, dir, ns string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(data, &tm); err != nil {
			return err
		}
		var obj client.Object
		switch tm.Kind {
		case "OnCallSchedule":
			obj = &klaxonv1alpha1.OnCallSchedule{}
		case "OnCallOverride":
			obj = &klaxonv1alpha1.OnCallOverride{}
		case "EscalationPolicy":
			obj = &klaxonv1alpha1.EscalationPolicy{}
		case "Responder":
			obj = &klaxonv1alpha1.Responder{}
		case "AlertRoute":
			obj = &klaxonv1alpha1.AlertRoute{}
		default:
			t.Errorf("%s: an import wrote a %q", path, tm.Kind)
			return nil
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("%s does not decode strictly: %v", path, err)
			return nil
		}
		obj.SetNamespace(ns)
		if err := k8s.Create(context.Background(), obj); err != nil {
			t.Errorf("the API server refuses %s: %v", path, err)
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// samples are up to n instants of the intervals, each in the middle of
// one, spread over the window.
func samples(intervals []importer.Interval, n int) []time.Time {
	var out []time.Time
	step := max(1, len(intervals)/n)
	for i := 0; i < len(intervals); i += step {
		iv := intervals[i]
		out = append(out, iv.Start.Add(iv.End.Sub(iv.Start)/2).Truncate(time.Second))
	}
	return out
}

// Every fixture of every importer applies to a real API server without a
// refusal, and at sampled instants the operator's schedule reconciler puts
// on call whom the source's final schedule does (for schedules the report
// calls mapped) or whom verify computed (for those it calls approximated).
func TestImportedObjectsApplyAndTheOperatorAgreesWithTheSource(t *testing.T) {
	for _, fx := range importFixtures(t) {
		t.Run(fx.manifest.Source+"/"+filepath.Base(fx.dir), func(t *testing.T) {
			ctx := context.Background()
			out := filepath.Join(t.TempDir(), "klaxon-import")
			r := kubectlKlaxonAt(cluster.AdminConfig, fx.manifest.Window.From, "import", fx.manifest.Source, "--from-dir", fx.dir, "--out", out)
			if r.err != nil {
				t.Fatalf("import: %v\n%s", r.err, r.errOut)
			}
			ns := newNamespace(t)
			if n := applyDir(t, out, ns); n == 0 {
				t.Fatal("the import wrote nothing to apply")
			}
			res, err := fx.provider.Import(ctx, importer.DirSource{Dir: fx.dir}, importer.Options{Window: fx.manifest.Window})
			if err != nil {
				t.Fatal(err)
			}
			// The importers' contract: what the report calls mapped verifies
			// without a difference.
			verdicts, err := importer.Verify(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range verdicts {
				mapped := slices.ContainsFunc(res.Entries, func(e importer.Entry) bool {
					return e.Kind == "OnCallSchedule" && e.Name == v.Schedule && e.Outcome == importer.Mapped
				})
				if mapped && len(v.Differences) > 0 {
					t.Errorf("%s is reported mapped, and %s", v.Schedule, importer.Differ(len(v.Differences)))
				}
			}
			clk := testingclock.NewFakePassiveClock(fx.manifest.Window.From)
			rec := controller.NewOnCallScheduleReconciler(k8s, &events.FakeRecorder{}, controller.WithClock(clk))
			for _, final := range res.Finals {
				mapped := slices.ContainsFunc(res.Entries, func(e importer.Entry) bool {
					return e.Kind == "OnCallSchedule" && e.Name == final.Schedule && e.Outcome == importer.Mapped
				})
				want := final.Intervals
				if !mapped {
					if want, err = importer.Shifts(res, final.Schedule, res.Window); err != nil {
						t.Fatal(err)
					}
				}
				for _, at := range samples(want, 8) {
					clk.SetTime(at)
					key := client.ObjectKey{Namespace: ns, Name: final.Schedule}
					if _, err := rec.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
						t.Fatalf("reconciling %s at %s: %v", final.Schedule, at, err)
					}
					var s klaxonv1alpha1.OnCallSchedule
					if err := k8s.Get(ctx, key, &s); err != nil {
						t.Fatal(err)
					}
					got := slices.Sorted(slices.Values(s.Status.OnCall))
					if exp := peopleAt(want, at); !slices.Equal(got, exp) {
						t.Errorf("%s at %s: the operator has %v on call, the source %v", final.Schedule, at.Format(time.RFC3339), got, exp)
					}
				}
			}
		})
	}
}

func peopleAt(intervals []importer.Interval, at time.Time) []string {
	var out []string
	for _, iv := range intervals {
		if !at.Before(iv.Start) && at.Before(iv.End) {
			out = append(out, iv.People...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// A truncated answer fails the import with a message naming it, and the
// previous import in --out is left as it was.
func TestImportOfATruncatedAnswerWritesNothing(t *testing.T) {
	for _, fx := range importFixtures(t) {
		t.Run(fx.manifest.Source+"/"+filepath.Base(fx.dir), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "klaxon-import")
			if r := kubectlKlaxonAt(cluster.AdminConfig, fx.manifest.Window.From, "import", fx.manifest.Source, "--from-dir", fx.dir, "--out", out); r.err != nil {
				t.Fatalf("import: %v", r.err)
			}
			before := tree(t, out)
			spoilt := filepath.Join(t.TempDir(), "answers")
			if err := os.CopyFS(spoilt, os.DirFS(fx.dir)); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(spoilt)
			for _, e := range entries {
				if e.Name() == importer.ManifestFile {
					continue
				}
				path := filepath.Join(spoilt, e.Name())
				data, _ := os.ReadFile(path)
				if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := kubectlKlaxonAt(cluster.AdminConfig, fx.manifest.Window.From, "import", fx.manifest.Source, "--from-dir", spoilt, "--out", out)
			if r.err == nil || !strings.Contains(r.err.Error(), "not the JSON expected") {
				t.Errorf("import of truncated answers: %v", r.err)
			}
			if after := tree(t, out); after != before {
				t.Errorf("a failed import changed --out:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// tree lists the files of dir with their sizes.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b.WriteString(rel + ":" + strconv.FormatInt(info.Size(), 10) + " ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestImportFlagsAreChecked(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"import", "pagerduty"}, "no PagerDuty token: give a file holding it with --token-file, or set $PAGERDUTY_TOKEN"},
		{[]string{"import", "grafana-oncall", "--token-file", "/dev/null"}, "Grafana OnCall is self-hosted: give its API's base URL with --url"},
		{[]string{"import", "opsgenie", "--url", "ftp://example.com"}, `--url "ftp://example.com": give the API's base URL`},
		{[]string{"import", "opsgenie", "--weeks", "27"}, "--weeks 27: give 1 to 26"},
		{[]string{"import", "opsgenie", "--report", "yaml"}, `--report "yaml": give text or json`},
		{[]string{"import", "opsgenie", "--cluster"}, "--cluster goes with --verify"},
		{[]string{"import", "opsgenie", "--from-dir", "x", "--since", "2026-12-07T00:00:00Z"}, "--from-dir reads saved answers"},
		{[]string{"import", "opsgenie", "--since", "tomorrow"}, `--since "tomorrow": give a time such as`},
		{[]string{"import", "opsgenie", "--from-dir", "/nonexistent"}, "/nonexistent is no directory of saved answers"},
	}
	for _, tc := range cases {
		r := kubectlKlaxon(cluster.AdminConfig, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("kubectl klaxon %s: %v, want an error saying %q", strings.Join(tc.args, " "), r.err, tc.want)
		}
	}
}
