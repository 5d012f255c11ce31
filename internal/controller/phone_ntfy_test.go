package controller_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/ntfytest"
)

// A page pushed through ntfy, with the access token the server requires,
// records the message id ntfy answered.
func TestNtfyPageRecordsMessageID(t *testing.T) {
	const token = "tk_0123456789abcdefghijklmnopqrs"
	server := ntfytest.Start(t, ntfytest.Options{Token: token})
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, "ntfy", true, map[string]string{"token": token})
	push := createChannel(t, ns, "push", klaxonv1alpha1.NotificationChannelSpec{Ntfy: &klaxonv1alpha1.NtfyChannel{
		URL: server.URL, TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "ntfy", Key: "token"}}})
	channelReady(t, push, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "Pushes to ntfy at "+strings.TrimPrefix(server.URL, "http://"))
	phoneResponder(t, ns, "alice", nil, klaxonv1alpha1.Contact{Name: "push", Channel: "push", Address: "alice-pager"})
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "pushed", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/push:Sent/1")

	page := server.Messages()
	if len(page) != 1 || page[0].Topic != "alice-pager" || page[0].ID == "" {
		t.Fatalf("published: %+v", page)
	}
	if ref := got.Status.Notifications[0].MessageRef; ref != page[0].ID {
		t.Errorf("messageRef %q, want ntfy's id %q", ref, page[0].ID)
	}
}
