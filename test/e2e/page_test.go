package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

var ackLink = regexp.MustCompile(`https?://\S+/ack/\S+`)

// TestPageArrivesByMailAndIsAcknowledgedFromIt pages alice along a policy:
// the operator binary mails her through a real SMTP server, and the
// acknowledge link in the mail, fetched as a mail scanner would, changes
// nothing, while its button acknowledges the incident as alice.
func TestPageArrivesByMailAndIsAcknowledgedFromIt(t *testing.T) {
	ctx := context.Background()
	smtp := mailpit.Start(t)
	ns, err := cluster.NewNamespace(ctx, "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	requireTLS := false
	objs := []client.Object{
		&klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: "mail", Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
				Smarthost: smtp.SMTP, From: "klaxon@example.com", RequireTLS: &requireTLS}}},
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{DisplayName: "Alice Doe",
				Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: "alice@example.com"}},
				Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "mail"}}}},
		&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "direct", Namespace: ns},
			Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}},
				Stakeholders: []klaxonv1alpha1.Stakeholder{{Channel: "mail", Address: "status@example.com"}}}},
		&klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: "db-down", Namespace: ns},
			Spec: klaxonv1alpha1.IncidentSpec{Title: "Orders database is down", Severity: klaxonv1alpha1.SeverityCritical,
				Service: "orders", EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "direct"}}},
	}
	for _, obj := range objs {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	var mail mailpit.Message
	eventually(t, "the page to arrive by mail", 30*time.Second, func(context.Context) (bool, error) {
		for _, m := range smtp.Messages(t) {
			if len(m.To) == 1 && m.To[0].Address == "alice@example.com" {
				smtp.Get(t, "/api/v1/message/"+m.ID, &mail)
				return true, nil
			}
		}
		return false, nil
	})
	if len(mail.To) != 1 || mail.To[0].Address != "alice@example.com" || !strings.Contains(mail.Subject, "Orders database is down") ||
		!strings.Contains(mail.Text, ns+"/db-down") {
		t.Fatalf("the mail: to %v, subject %q, text:\n%s", mail.To, mail.Subject, mail.Text)
	}
	link := ackLink.FindString(mail.Text)
	if link == "" {
		t.Fatalf("the mail has no acknowledge link:\n%s", mail.Text)
	}

	inc := &klaxonv1alpha1.Incident{}
	get := func() {
		t.Helper()
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db-down"}, inc); err != nil {
			t.Fatal(err)
		}
	}
	get()
	// The operator keeps writing status (the delivery's outcome, news to
	// stakeholders); following a link must leave the spec and the actor.
	before, actor := inc.Generation, inc.Annotations[klaxonv1alpha1.ActorAnnotation]
	code, body := request(t, http.MethodGet, link)
	if code != http.StatusOK || !strings.Contains(body, "Orders database is down") || !strings.Contains(body, "Acknowledge as alice") {
		t.Fatalf("GET %s: %d\n%s", link, code, body)
	}
	time.Sleep(time.Second)
	if get(); inc.Generation != before || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != actor || inc.Status.Phase != klaxonv1alpha1.StateTriggered {
		t.Fatalf("following the link changed the incident: generation %d (was %d), actor %q (was %q), phase %s",
			inc.Generation, before, inc.Annotations[klaxonv1alpha1.ActorAnnotation], actor, inc.Status.Phase)
	}
	if code, body = request(t, http.MethodPost, link); code != http.StatusOK || !strings.Contains(body, "Acknowledged by alice") {
		t.Fatalf("POST %s: %d\n%s", link, code, body)
	}
	eventually(t, "the incident to be acknowledged by alice", 30*time.Second, func(ctx context.Context) (bool, error) {
		get()
		return inc.Status.Phase == klaxonv1alpha1.StateAcknowledged && inc.Status.AcknowledgedBy == "alice", nil
	})

	// Stakeholders hear of the trigger, two updates, the resolution and the
	// close, each once, by mail.
	patch := func(p string) {
		t.Helper()
		if err := k8s.Patch(ctx, inc, client.RawPatch(types.MergePatchType, []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	patch(`{"spec":{"updates":[{"time":"2026-11-24T10:05:00Z","author":"alice","message":"Failing over to the replica."}]}}`)
	patch(`{"spec":{"updates":[{"time":"2026-11-24T10:05:00Z","author":"alice","message":"Failing over to the replica."},` +
		`{"time":"2026-11-24T10:20:00Z","author":"alice","message":"Orders flow again."}]}}`)
	patch(`{"spec":{"state":"Resolved"}}`)
	eventually(t, "the incident to be resolved", 30*time.Second, func(context.Context) (bool, error) {
		get()
		return inc.Status.Phase == klaxonv1alpha1.StateResolved, nil
	})
	patch(`{"spec":{"state":"Closed","postmortem":{"url":"https://wiki.example.com/pm/42"}}}`)
	want := []string{
		"Closed: Orders database is down|https://wiki.example.com/pm/42",
		"Resolved: Orders database is down|",
		"Triggered: Orders database is down|",
		"Update: Orders database is down|Failing over to the replica.",
		"Update: Orders database is down|Orders flow again.",
	}
	collect := func() []string {
		var got []string
		for _, m := range smtp.Messages(t) {
			if len(m.To) != 1 || m.To[0].Address != "status@example.com" {
				continue
			}
			var full mailpit.Message
			smtp.Get(t, "/api/v1/message/"+m.ID, &full)
			subject := full.Subject[strings.Index(full.Subject, "] ")+2 : strings.LastIndex(full.Subject, " (")]
			detail := ""
			for _, s := range []string{"Failing over to the replica.", "Orders flow again.", "https://wiki.example.com/pm/42"} {
				if strings.Contains(full.Text, s) {
					detail = s
				}
			}
			got = append(got, subject+"|"+detail)
		}
		sort.Strings(got)
		return got
	}
	eventually(t, "five mails to the stakeholders", 30*time.Second, func(context.Context) (bool, error) {
		return len(collect()) >= len(want), nil
	})
	// Anything sent twice would have arrived by now.
	time.Sleep(time.Second)
	if got := collect(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stakeholders got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func request(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
