package plugin_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// berlinRotation creates payments-primary: alice and bob take daily turns
// at 10:00 Berlin time from Mon 23 Nov 2026, so at the plugin's now (12:00
// UTC, 13:00 in Berlin) alice is on call until 10:00 tomorrow.
func berlinRotation(t *testing.T, ns string) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "primary", Participants: []string{"alice", "bob"},
			Start: "2026-11-23T10:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour},
		}}},
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func overridesIn(t *testing.T, ns string) []klaxonv1alpha1.OnCallOverride {
	t.Helper()
	var list klaxonv1alpha1.OnCallOverrideList
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b klaxonv1alpha1.OnCallOverride) int { return strings.Compare(a.Name, b.Name) })
	return list.Items
}

// summary renders an override as "change start end" in UTC.
func summary(o klaxonv1alpha1.OnCallOverride) string {
	what := ""
	switch {
	case o.Spec.Replace != nil:
		what = "replace " + o.Spec.Replace.User + " with " + o.Spec.Replace.With
	case len(o.Spec.Add) > 0:
		what = "add " + strings.Join(o.Spec.Add, ",")
	default:
		what = "remove " + strings.Join(o.Spec.Remove, ",")
	}
	return o.Spec.ScheduleRef.Name + ": " + what + " " + o.Spec.Start.UTC().Format(time.RFC3339) + " " + o.Spec.End.UTC().Format(time.RFC3339)
}

func TestOverrideCommandsCreateOverrides(t *testing.T) {
	ns := newNamespace(t)
	berlinRotation(t, ns)
	dave := userConfig(t, "dave")

	out := mustRun(t, cluster.AdminConfig, "override", "replace", "-n", ns, "--schedule", "payments-primary",
		"--from", "now", "--to", "+8h", "--user", "alice", "--with", "dave")
	if !regexp.MustCompile(`^oncalloverride.klaxon.dev/payments-primary-replace-[a-z0-9]{5} created: replace alice with dave on payments-primary from Mon 2026-11-23 13:00 CET to Mon 2026-11-23 21:00 CET\n$`).MatchString(out) {
		t.Errorf("override replace printed %q", out)
	}
	// You, by default; a local time in the schedule's zone; --to from --from.
	mustRun(t, dave, "override", "add", "-n", ns, "--schedule", "payments-primary", "--from", "2026-11-24 18:00", "--to", "+1d")
	mustRun(t, dave, "override", "remove", "-n", ns, "--schedule", "payments-primary", "--from", "2026-11-25T09:00:00Z", "--to", "2026-11-25T11:00",
		"--user", "bob", "--user", "alice")
	var got []string
	for _, o := range overridesIn(t, ns) {
		got = append(got, summary(o))
	}
	slices.Sort(got)
	want := []string{
		"payments-primary: add dave 2026-11-24T17:00:00Z 2026-11-25T17:00:00Z",
		"payments-primary: remove bob,alice 2026-11-25T09:00:00Z 2026-11-25T10:00:00Z",
		"payments-primary: replace alice with dave 2026-11-23T12:00:00Z 2026-11-23T20:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overrides (-want +got):\n%s", diff)
	}

	refused := map[string]struct {
		args []string
		says string
	}{
		"a replace of someone the schedule never names": {
			[]string{"override", "replace", "--schedule", "payments-primary", "--to", "+1h", "--user", "mallory"},
			"mallory is nobody OnCallSchedule payments-primary names, so replacing them would change nothing; its people: alice, bob"},
		"no end":          {[]string{"override", "add", "--schedule", "payments-primary"}, "--to is required"},
		"an end before":   {[]string{"override", "add", "--schedule", "payments-primary", "--from", "+2h", "--to", "-1h"}, "is not after --from"},
		"no time":         {[]string{"override", "add", "--schedule", "payments-primary", "--to", "tomorrow"}, `--to: "tomorrow" is not a time`},
		"no schedule":     {[]string{"override", "add", "--to", "+1h"}, "--schedule is required"},
		"a missing one":   {[]string{"override", "add", "--schedule", "nope", "--to", "+1h"}, "cannot read OnCallSchedule"},
		"too long":        {[]string{"override", "add", "--schedule", "payments-primary", "--to", "+91d"}, "an override lasts at most 90 days"},
		"replace by self": {[]string{"override", "replace", "--schedule", "payments-primary", "--to", "+1h", "--user", "alice", "--with", "alice"}, "a person cannot cover their own shift"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			r := kubectlKlaxon(cluster.AdminConfig, append(tc.args, "-n", ns)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.says) {
				t.Errorf("got %v, want an error saying %q", r.err, tc.says)
			}
		})
	}
	if n := len(overridesIn(t, ns)); n != 3 {
		t.Errorf("%d overrides after the refused commands, want still 3", n)
	}
}

// cover replaces everyone on call in the interval by you, each while they
// are on call: alice now, bob from tomorrow's 10:00 handoff.
func TestCoverReplacesWhoeverIsOnCallByYou(t *testing.T) {
	ns := newNamespace(t)
	berlinRotation(t, ns)
	out := mustRun(t, userConfig(t, "erin"), "cover", "-n", ns, "--schedule", "payments-primary", "--from", "now", "--to", "+1d")
	if n := strings.Count(out, " created: replace "); n != 2 {
		t.Errorf("cover printed %q, want two overrides", out)
	}
	var got []string
	for _, o := range overridesIn(t, ns) {
		got = append(got, summary(o))
	}
	slices.Sort(got)
	want := []string{
		"payments-primary: replace alice with erin 2026-11-23T12:00:00Z 2026-11-24T09:00:00Z",
		"payments-primary: replace bob with erin 2026-11-24T09:00:00Z 2026-11-24T12:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overrides (-want +got):\n%s", diff)
	}
	// Within alice's shift, only alice is covered; someone on call alone
	// cannot cover themselves.
	mustRun(t, userConfig(t, "frank"), "cover", "-n", ns, "--schedule", "payments-primary", "--from", "+1h", "--to", "+2h")
	if r := kubectlKlaxon(userConfig(t, "erin"), "cover", "-n", ns, "--schedule", "payments-primary", "--to", "+1h"); r.err == nil ||
		!strings.Contains(r.err.Error(), "nobody but you is on call") {
		t.Errorf("erin covering herself: %v", r.err)
	}
}

// oncall --at and shifts work out who is on call from the spec and the
// overrides, in the schedule's zone.
func TestOncallAtAndShifts(t *testing.T) {
	ns := newNamespace(t)
	berlinRotation(t, ns)
	mustRun(t, cluster.AdminConfig, "override", "replace", "-n", ns, "--schedule", "payments-primary",
		"--from", "2026-11-24 18:00", "--to", "+2h", "--user", "bob", "--with", "dave")

	got := mustRun(t, cluster.AdminConfig, "oncall", "-n", ns, "--at", "2026-11-24 19:00")
	want := `NAME               ON CALL   NEXT HANDOFF                       NEXT ON CALL   READY
payments-primary   dave      2026-11-24T19:00:00Z (60m later)   bob            Unknown
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("oncall --at (-want +got):\n%s", diff)
	}

	got = mustRun(t, cluster.AdminConfig, "shifts", "-n", ns, "--weeks", "1")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	wantHead := []string{
		"SCHEDULE           FROM                       TO                         ON CALL",
		"payments-primary   Mon 2026-11-23 13:00 CET   Tue 2026-11-24 10:00 CET   alice",
		"payments-primary   Tue 2026-11-24 10:00 CET   Tue 2026-11-24 18:00 CET   bob",
		"payments-primary   Tue 2026-11-24 18:00 CET   Tue 2026-11-24 20:00 CET   dave",
		"payments-primary   Tue 2026-11-24 20:00 CET   Wed 2026-11-25 10:00 CET   bob",
	}
	if len(lines) < len(wantHead) {
		t.Fatalf("shifts printed %q", got)
	}
	if diff := cmp.Diff(wantHead, lines[:len(wantHead)]); diff != "" {
		t.Errorf("shifts (-want +got):\n%s", diff)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "Mon 2026-11-30 13:00 CET") {
		t.Errorf("the last shift %q does not end a week after now", last)
	}

	got = mustRun(t, cluster.AdminConfig, "shifts", "payments-primary", "-n", ns, "--user", "dave")
	want = `SCHEDULE           FROM                       TO                         ON CALL
payments-primary   Tue 2026-11-24 18:00 CET   Tue 2026-11-24 20:00 CET   dave
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shifts --user dave (-want +got):\n%s", diff)
	}
	if r := kubectlKlaxon(cluster.AdminConfig, "shifts", "-n", ns, "--weeks", "27"); r.err == nil {
		t.Error("shifts --weeks 27 succeeded")
	}
}
