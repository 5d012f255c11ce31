package plugin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/plugin"
)

func TestOncallShowsWhoIsOnCallNowAndNext(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "Europe/Berlin",
			Layers: []klaxonv1alpha1.ScheduleLayer{{
				Name: "primary", Participants: []string{"alice", "bob"},
				Start: "2026-11-23T10:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour},
			}},
		},
	}
	if err := k8s.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	// As the operator writes it: alice took over at 09:00 UTC, bob
	// follows a day later.
	s.Status = klaxonv1alpha1.OnCallScheduleStatus{
		OnCall:        []string{"alice"},
		NextHandoffAt: at(21 * time.Hour),
		Conditions: []metav1.Condition{{
			Type: klaxonv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Valid", Message: "ok",
			LastTransitionTime: *at(-time.Hour),
		}},
	}
	if err := k8s.Status().Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	unready := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-secondary", Namespace: ns},
		Spec:       *s.Spec.DeepCopy(),
	}
	unready.Spec.TimeZone = "Mars/Olympus"
	if err := k8s.Create(ctx, unready); err != nil {
		t.Fatal(err)
	}
	unready.Status.Conditions = []metav1.Condition{{
		Type: klaxonv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "InvalidTimeZone", Message: "unknown time zone",
		LastTransitionTime: *at(-time.Hour),
	}}
	if err := k8s.Status().Update(ctx, unready); err != nil {
		t.Fatal(err)
	}

	got := mustRun(t, cluster.AdminConfig, "oncall", "-n", ns)
	want := `NAME                 ON CALL   NEXT HANDOFF                    NEXT ON CALL   READY
payments-primary     alice     2026-11-24T09:00:00Z (in 21h)   bob            True
payments-secondary   <none>    <none>                          <none>         False (InvalidTimeZone)
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("oncall (-want +got):\n%s", diff)
	}
	if got := mustRun(t, cluster.AdminConfig, "oncall", "payments-primary", "-n", ns, "-o", "name"); got != "oncallschedule.klaxon.dev/payments-primary\n" {
		t.Errorf("oncall -o name = %q", got)
	}
}

func TestTimelineIsATable(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, ns, "checkout")
	setStatus(t, inc, klaxonv1alpha1.IncidentStatus{
		Phase: klaxonv1alpha1.StateAcknowledged,
		Timeline: []klaxonv1alpha1.TimelineEntry{
			{Time: *at(-45 * time.Minute), Type: "Triggered", Actor: "alice", Message: "Incident triggered by alice"},
			{Time: *at(-44 * time.Minute), Type: "Paged", Message: "Paged bob (level 0,\nschedule payments-primary)"},
			{Time: *at(-30 * time.Minute), Type: "Acknowledged", Actor: "bob", Message: "Incident acknowledged by bob"},
		},
		TimelineDropped: 3,
	})
	r := kubectlKlaxon(cluster.AdminConfig, "timeline", "checkout", "-n", ns)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := `TIME                   AGE   TYPE           ACTOR    MESSAGE
2026-11-23T11:15:00Z   45m   Triggered      alice    Incident triggered by alice
2026-11-23T11:16:00Z   44m   Paged          <none>   Paged bob (level 0, schedule payments-primary)
2026-11-23T11:30:00Z   30m   Acknowledged   bob      Incident acknowledged by bob
`
	if diff := cmp.Diff(want, r.out); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if want := "3 older entries were dropped: the timeline keeps the newest 3.\n"; r.errOut != want {
		t.Errorf("stderr = %q, want %q", r.errOut, want)
	}

	var entries []klaxonv1alpha1.TimelineEntry
	if err := json.Unmarshal([]byte(mustRun(t, cluster.AdminConfig, "timeline", "checkout", "-n", ns, "-o", "json")), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[2].Actor != "bob" {
		t.Errorf("timeline -o json = %+v", entries)
	}
}

// statusFixture creates incidents in two namespaces, with the status an
// operator would have written at now.
func statusFixture(t *testing.T) (string, string) {
	t.Helper()
	payments, search := newNamespace(t), newNamespace(t)
	sev := func(s klaxonv1alpha1.Severity) func(*klaxonv1alpha1.Incident) {
		return func(inc *klaxonv1alpha1.Incident) { inc.Spec.Severity = s }
	}
	inc := createIncident(t, payments, "gateway-down", sev(klaxonv1alpha1.SeverityCritical))
	setStatus(t, inc, klaxonv1alpha1.IncidentStatus{
		Phase: klaxonv1alpha1.StateTriggered, TriggeredAt: at(-20 * time.Minute),
		Assignments: []klaxonv1alpha1.Assignment{
			{Name: "alice", Level: 0, NotifiedAt: *at(-20 * time.Minute)},
			{Name: "bob", Level: 1, NotifiedAt: *at(-10 * time.Minute)},
			{Name: "alice", Level: 0, Round: 1, NotifiedAt: *at(-time.Minute)},
		},
		// The acknowledge deadline passed; the operator has not said so yet.
		ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{AcknowledgeBy: at(-15 * time.Minute), ResolveBy: at(4 * time.Hour)},
	})
	inc = createIncident(t, search, "slow-queries", sev(klaxonv1alpha1.SeverityCritical), func(inc *klaxonv1alpha1.Incident) {
		inc.Spec.Commander = "carol"
		inc.Spec.State = klaxonv1alpha1.StateAcknowledged
	})
	setStatus(t, inc, klaxonv1alpha1.IncidentStatus{
		Phase: klaxonv1alpha1.StateAcknowledged, TriggeredAt: at(-3 * time.Hour), AcknowledgedAt: at(-170 * time.Minute),
		AcknowledgedBy: "dave",
		Conditions: []metav1.Condition{{
			Type: klaxonv1alpha1.ConditionUpdateOverdue, Status: metav1.ConditionTrue, Reason: klaxonv1alpha1.ReasonTargetMissed,
			Message: "Not updated", LastTransitionTime: *at(-time.Hour),
		}},
	})
	inc = createIncident(t, payments, "refunds-delayed", sev(klaxonv1alpha1.SeverityModerate), func(inc *klaxonv1alpha1.Incident) {
		inc.Spec.Title = "Refunds take\nan hour"
	})
	setStatus(t, inc, klaxonv1alpha1.IncidentStatus{Phase: klaxonv1alpha1.StateTriggered, TriggeredAt: at(-2 * 24 * time.Hour)})
	mustRun(t, cluster.AdminConfig, "resolve", "refunds-delayed", "-n", payments)
	createIncident(t, payments, "old", sev(klaxonv1alpha1.SeverityCritical))
	mustRun(t, cluster.AdminConfig, "close", "old", "-n", payments, "--postmortem", "https://wiki.example.com/pm/1")
	return payments, search
}

func TestStatusGroupsOpenIncidentsBySeverityOldestFirst(t *testing.T) {
	payments, search := statusFixture(t)

	got := mustRun(t, cluster.AdminConfig, "status", "-n", payments)
	want := `SEVERITY   NAMESPACE      NAME              PHASE                   TRIGGERED   WHO                MISSED TARGETS   TITLE
SEV1       ` + payments + `   gateway-down      Triggered               20m ago     paged alice, bob   acknowledge      Checkout returns 500 for 5% of requests
SEV3       ` + payments + `   refunds-delayed   Triggered -> Resolved   2d ago      <nobody>           <none>           Refunds take an hour

2 open (1 SEV1, 1 SEV3); 1 missed a response target.
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status -n (-want +got):\n%s", diff)
	}

	// Every namespace by default: the search incident, older, comes first
	// among the SEV1s, before anything of lower severity.
	names := strings.Fields(mustRun(t, cluster.AdminConfig, "status", "-o", "name"))
	var ours []string
	for _, n := range names {
		if n == "incident.klaxon.dev/slow-queries" || n == "incident.klaxon.dev/gateway-down" || n == "incident.klaxon.dev/refunds-delayed" || n == "incident.klaxon.dev/old" {
			ours = append(ours, n)
		}
	}
	wantOrder := []string{"incident.klaxon.dev/slow-queries", "incident.klaxon.dev/gateway-down", "incident.klaxon.dev/refunds-delayed"}
	if diff := cmp.Diff(wantOrder, ours); diff != "" {
		t.Errorf("status -o name order (-want +got):\n%s", diff)
	}
	table := mustRun(t, cluster.AdminConfig, "status")
	var searchRow string
	for _, line := range strings.Split(table, "\n") {
		if strings.Contains(line, search+"   slow-queries") {
			searchRow = line
		}
	}
	for _, want := range []string{"   Acknowledged   ", "3h ago", "commander carol; acked by dave", "   update   "} {
		if !strings.Contains(searchRow, want) {
			t.Errorf("the row of %s/slow-queries does not say %q: %q", search, want, searchRow)
		}
	}
}

func TestStatusAsYAMLIsAList(t *testing.T) {
	payments, _ := statusFixture(t)
	got := mustRun(t, cluster.AdminConfig, "status", "-n", payments, "-o", "yaml")
	for _, want := range []string{"apiVersion: v1\nitems:\n- apiVersion: klaxon.dev/v1alpha1\n  kind: Incident\n", "kind: List\n", "name: gateway-down\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("status -o yaml lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "managedFields") {
		t.Error("status -o yaml prints managed fields")
	}
}

func TestReportOnScriptedIncidents(t *testing.T) {
	ns := newNamespace(t)
	type scripted struct {
		name, service string
		severity      klaxonv1alpha1.Severity
		status        klaxonv1alpha1.IncidentStatus
	}
	targets := func(ack, resolve time.Duration, start time.Duration) *klaxonv1alpha1.ResponseTargetsStatus {
		return &klaxonv1alpha1.ResponseTargetsStatus{AcknowledgeBy: at(start + ack), ResolveBy: at(start + resolve)}
	}
	day := 24 * time.Hour
	for _, s := range []scripted{
		// SEV1: acknowledged in 2m and 6m, resolved in 1h and 5h, against
		// targets of 5m and 4h: one of each met.
		{"db-1", "checkout", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.IncidentStatus{
			TriggeredAt: at(-3 * day), AcknowledgedAt: at(-3*day + 2*time.Minute), ResolvedAt: at(-3*day + time.Hour),
			ResponseTargets: targets(5*time.Minute, 4*time.Hour, -3*day)}},
		{"db-2", "checkout", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.IncidentStatus{
			TriggeredAt: at(-2 * day), AcknowledgedAt: at(-2*day + 6*time.Minute), ResolvedAt: at(-2*day + 5*time.Hour),
			ResponseTargets: targets(5*time.Minute, 4*time.Hour, -2*day)}},
		// SEV2, open, acknowledged in 10m.
		{"search-1", "search", klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.IncidentStatus{
			TriggeredAt: at(-time.Hour), AcknowledgedAt: at(-50 * time.Minute)}},
		// Outside the window.
		{"ancient", "search", klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.IncidentStatus{
			TriggeredAt: at(-40 * day), AcknowledgedAt: at(-40*day + time.Minute)}},
	} {
		inc := createIncident(t, ns, s.name, func(inc *klaxonv1alpha1.Incident) {
			inc.Spec.Severity, inc.Spec.Service = s.severity, s.service
		})
		setStatus(t, inc, s.status)
	}

	got := mustRun(t, cluster.AdminConfig, "report", "--since", "30d", "-n", ns)
	want := `Incidents triggered from 2026-10-24T12:00:00Z to 2026-11-23T12:00:00Z in namespace ` + ns + `, by severity

SEVERITY   INCIDENTS   OPEN   MTTA P50   MTTA P90   MTTR P50   MTTR P90   ACK TARGET MET   RESOLVE TARGET MET
SEV1       2           0      4m         5m36s      3h         4h36m      1/2 (50%)        1/2 (50%)
SEV2       1           1      10m        10m        -          -          -                -
total      3           1      6m         9m12s      3h         4h36m      1/2 (50%)        1/2 (50%)
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	var r plugin.Report
	if err := json.Unmarshal([]byte(mustRun(t, cluster.AdminConfig, "report", "--by", "service", "--since", "7d", "-n", ns, "-o", "json")), &r); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range r.Groups {
		keys = append(keys, g.Key)
	}
	if diff := cmp.Diff([]string{"checkout", "search"}, keys); diff != "" {
		t.Errorf("report --by service groups (-want +got):\n%s", diff)
	}
	if r.Total.Incidents != 3 || r.Groups[0].TimeToResolve.Median.Duration != 3*time.Hour {
		t.Errorf("report -o json = %+v", r)
	}
}

func TestCompletionListsTheIncidentsAMoveApplies(t *testing.T) {
	ns := newNamespace(t)
	createIncident(t, ns, "fresh")
	createIncident(t, ns, "finished")
	mustRun(t, cluster.AdminConfig, "close", "finished", "-n", ns)

	got := mustRun(t, cluster.AdminConfig, "__complete", "ack", "-n", ns, "")
	want := "fresh\tSEV3 Triggered: Checkout returns 500 for 5% of requests\n:4\n"
	if got != want {
		t.Errorf("completion of ack = %q, want %q", got, want)
	}
	got = mustRun(t, cluster.AdminConfig, "__complete", "declare", "x", "--severity", "")
	if want := "SEV1\nSEV2\nSEV3\nSEV4\n:4\n"; got != want {
		t.Errorf("completion of --severity = %q, want %q", got, want)
	}
}
