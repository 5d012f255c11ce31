package fault

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// token is the receiver token of every team's route.
const token = "fault-token"

// team is a namespace with a mail channel, responders and an escalation
// policy that pages one of them per level, and an AlertRoute ("alerts")
// that opens incidents on it from Alertmanager.
type team struct {
	ns   string
	mail *mailpit.Server
}

// level is one level of the team's policy: who is paged, and how long
// after the previous level.
type level struct {
	person string
	after  time.Duration
}

// newTeam makes a team in a fresh namespace whose responders are mailed
// through mail.
func newTeam(t *testing.T, mail *mailpit.Server, levels ...level) *team {
	t.Helper()
	return newTeamVia(t, mail, mail.SMTP, levels...)
}

// newTeamVia is newTeam with the mail channel's smarthost at smarthost, a
// relay in front of mail.
func newTeamVia(t *testing.T, mail *mailpit.Server, smarthost string, levels ...level) *team {
	t.Helper()
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, "fault-")
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	requireTLS := false
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alertmanager-token", Namespace: ns,
			Labels: map[string]string{receiver.TokenSecretLabel: "true"}}, StringData: map[string]string{"token": token}},
		// The suite counts each page's own mail across faults, so its pages
		// are not bundled (bundles across a restart have a test of their
		// own): the channel turns bundling off for the contacts through it.
		&klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: "mail", Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
				Smarthost: smarthost, From: "klaxon@example.com", RequireTLS: &requireTLS}, BundleAfter: new(int32)}},
	}
	policy := &klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "policy", Namespace: ns}}
	for _, l := range levels {
		objs = append(objs, &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: l.person, Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{
				Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: l.person + "@example.com"}},
				Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "mail"}}}})
		pl := klaxonv1alpha1.EscalationLevel{Targets: []klaxonv1alpha1.EscalationTarget{{User: l.person}}}
		if l.after > 0 {
			pl.After = &metav1.Duration{Duration: l.after}
		}
		policy.Spec.Levels = append(policy.Spec.Levels, pl)
	}
	objs = append(objs, policy)
	for _, obj := range objs {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return &team{ns: ns, mail: mail}
}

// createRoute creates the team's AlertRoute, which titles each incident
// with its alertname, and waits until an operator made it Ready.
func (tm *team) createRoute(t *testing.T) {
	t.Helper()
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "alerts", Namespace: tm.ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Severity:            klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical}},
			TitleTemplate:       `{{ .CommonLabels.alertname }}`,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "policy"},
			TokenSecretRef:      klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
		},
	}
	if err := k8s.Create(context.Background(), route); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the route to be Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
}

// webhook is the URL path of the team's route on a receiver.
func (tm *team) webhook() string {
	return "/alertmanager/" + tm.ns + "/alerts"
}

// incidents lists the team's incidents.
func (tm *team) incidents(ctx context.Context) ([]klaxonv1alpha1.Incident, error) {
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(ctx, list, client.InNamespace(tm.ns)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// mails counts, per incident title and person, the mails paging them: the
// map's keys are "title person", and its values the times mailpit took
// each mail in.
func (tm *team) mails(t *testing.T) map[string][]time.Time {
	t.Helper()
	out := map[string][]time.Time{}
	for _, m := range tm.mail.All(t) {
		if len(m.To) != 1 {
			t.Errorf("a mail to %d people: %q", len(m.To), m.Subject)
			continue
		}
		person, _, _ := strings.Cut(m.To[0].Address, "@")
		out[titleOf(m.Subject)+" "+person] = append(out[titleOf(m.Subject)+" "+person], m.Created)
	}
	for _, times := range out {
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	}
	return out
}

// titleOf finds the incident title in a page's subject, "[SEV1] <title>
// (<namespace>/<name>)": a title is one word in these tests.
func titleOf(subject string) string {
	fields := strings.Fields(subject)
	for i, f := range fields {
		if strings.HasPrefix(f, "(") && i > 0 {
			return fields[i-1]
		}
	}
	return subject
}

// paged returns the people an incident's assignments name per level, as
// "level:person" in order, for exact comparison.
func paged(inc *klaxonv1alpha1.Incident) string {
	var out []string
	for _, a := range inc.Status.Assignments {
		out = append(out, fmt.Sprintf("%d:%s", a.Level, a.Name))
	}
	return strings.Join(out, ",")
}

// assignment returns the incident's assignment at level, or nil.
func assignment(inc *klaxonv1alpha1.Incident, lvl int32) *klaxonv1alpha1.Assignment {
	for i := range inc.Status.Assignments {
		if inc.Status.Assignments[i].Level == lvl {
			return &inc.Status.Assignments[i]
		}
	}
	return nil
}

// allSent tells whether every delivery the incident planned was sent.
func allSent(inc *klaxonv1alpha1.Incident) bool {
	for _, n := range inc.Status.Notifications {
		if n.State != klaxonv1alpha1.NotificationSent {
			return false
		}
	}
	return true
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	suite.Eventually(t, what, timeout, cond)
}
