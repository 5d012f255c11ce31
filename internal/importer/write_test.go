package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func sample(name string) *Result {
	r := &Result{Source: "opsgenie"}
	r.Add(&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: klaxonv1alpha1.OnCallScheduleSpec{
		TimeZone: "Europe/Berlin",
		Layers: []klaxonv1alpha1.ScheduleLayer{{Name: "weekly", Participants: []string{"alice"},
			Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: 168 * time.Hour}}},
	}}, Entry{SourceKind: "schedule", SourceID: "s-1", Outcome: Mapped})
	r.Add(&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: klaxonv1alpha1.ResponderSpec{DisplayName: "Alice"}},
		Entry{SourceKind: "user", SourceID: "u-1", Outcome: Mapped})
	return r
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteGroupsByKindAndReplacesAnEarlierImport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "klaxon-import")
	if err := Write(out, sample("payments")); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(files(t, out), " ")
	if got != ".klaxon-import oncallschedules/payments.yaml responders/alice.yaml" {
		t.Errorf("files = %s", got)
	}
	data, err := os.ReadFile(filepath.Join(out, "oncallschedules", "payments.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	meta, _ := m["metadata"].(map[string]any)
	if m["apiVersion"] != "klaxon.dev/v1alpha1" || m["kind"] != "OnCallSchedule" || m["status"] != nil || meta["creationTimestamp"] != nil || meta["namespace"] != nil {
		t.Errorf("the YAML is not what a user applies:\n%s", data)
	}
	if ann, _ := meta["annotations"].(map[string]any); ann[AnnotationSource] != "opsgenie:schedule:s-1" {
		t.Errorf("annotations = %v", meta["annotations"])
	}

	// The next import replaces the directory: what it no longer has goes.
	if err := Write(out, sample("renamed")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files(t, out), " "); got != ".klaxon-import oncallschedules/renamed.yaml responders/alice.yaml" {
		t.Errorf("after the second import, files = %s", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("beside the import: %v, want nothing left over", entries)
	}
}

func TestWriteRefusesADirectoryOfOtherFiles(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "main.go"), []byte("package main"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(out, sample("payments"))
	if err == nil || !strings.Contains(err.Error(), "no import wrote") {
		t.Fatalf("Write into a directory of other files: %v", err)
	}
	if got := strings.Join(files(t, out), " "); got != "main.go" {
		t.Errorf("the directory changed: %s", got)
	}
}

// An object that cannot be written fails the write before anything moves.
func TestWriteLeavesNothingHalfWritten(t *testing.T) {
	out := filepath.Join(t.TempDir(), "klaxon-import")
	if err := Write(out, sample("payments")); err != nil {
		t.Fatal(err)
	}
	bad := sample("other")
	bad.Objects = append(bad.Objects, &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "../escape"}})
	if err := Write(out, bad); err == nil {
		// A name with a path separator must not reach the file system.
		t.Fatal("Write of an object named ../escape: no error")
	}
	if got := strings.Join(files(t, out), " "); got != ".klaxon-import oncallschedules/payments.yaml responders/alice.yaml" {
		t.Errorf("a failed write changed the previous import: %s", got)
	}
}

func TestWriteRefusesTwoObjectsOfOneName(t *testing.T) {
	r := sample("payments")
	r.Add(&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "alice"}}, Entry{SourceKind: "user", SourceID: "u-2", Outcome: Mapped})
	err := Write(filepath.Join(t.TempDir(), "out"), r)
	if err == nil || !strings.Contains(err.Error(), "two Responders are named alice") {
		t.Errorf("Write of two Responders named alice: %v", err)
	}
}

func TestPluralIsTheResourceName(t *testing.T) {
	for kind, want := range map[string]string{
		"OnCallSchedule": "oncallschedules", "OnCallOverride": "oncalloverrides", "EscalationPolicy": "escalationpolicies",
		"Responder": "responders", "AlertRoute": "alertroutes",
	} {
		if got := Plural(kind); got != want {
			t.Errorf("Plural(%s) = %s, want %s", kind, got, want)
		}
	}
}
