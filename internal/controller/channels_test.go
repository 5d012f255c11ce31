package controller_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// channelSecret creates a Secret with data, marked as channel credentials
// when marked.
func channelSecret(t *testing.T, ns, name string, marked bool, data map[string]string) *corev1.Secret {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if marked {
		secret.Labels = map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}
	}
	if err := k8s.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	return secret
}

// webhookChannel creates a webhook channel that sends the token under key
// "token" of the Secret secretName.
func webhookChannel(t *testing.T, ns, name, secretName string) *klaxonv1alpha1.NotificationChannel {
	t.Helper()
	return createChannel(t, ns, name, klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
		URL:            "https://hooks.example.com/klaxon",
		TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: secretName, Key: "token"},
	}})
}

func createChannel(t *testing.T, ns, name string, spec klaxonv1alpha1.NotificationChannelSpec) *klaxonv1alpha1.NotificationChannel {
	t.Helper()
	ch := &klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := k8s.Create(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// waitForReady waits until the Ready condition of obj, as conditions reads
// it, has status and reason and a message that says says.
func waitForReady(t *testing.T, obj client.Object, conditions func() []metav1.Condition, status metav1.ConditionStatus, reason, says string) {
	t.Helper()
	what := obj.GetName() + ": Ready=" + string(status) + " " + reason
	eventually(t, what, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		c := meta.FindStatusCondition(conditions(), klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == status && c.Reason == reason && strings.Contains(c.Message, says), err
	})
}

func channelReady(t *testing.T, ch *klaxonv1alpha1.NotificationChannel, status metav1.ConditionStatus, reason, says string) {
	t.Helper()
	waitForReady(t, ch, func() []metav1.Condition { return ch.Status.Conditions }, status, reason, says)
}

func responderReady(t *testing.T, r *klaxonv1alpha1.Responder, status metav1.ConditionStatus, reason, says string) {
	t.Helper()
	waitForReady(t, r, func() []metav1.Condition { return r.Status.Conditions }, status, reason, says)
}

func TestNotificationChannelReadiness(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}

	channelSecret(t, ns, "hook-token", true, map[string]string{"token": "s3cret\n"})
	hook := webhookChannel(t, ns, "hook", "hook-token")
	channelReady(t, hook, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "hooks.example.com")
	if hook.Status.ObservedGeneration != hook.Generation {
		t.Errorf("observedGeneration = %d, want %d", hook.Status.ObservedGeneration, hook.Generation)
	}

	mail := createChannel(t, ns, "mail", klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
		Smarthost: "smtp.example.com:587", From: "klaxon@example.com",
	}})
	channelReady(t, mail, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "Sends email through smtp.example.com:587")

	// A Secret without the label is not sent, even when it has the key.
	channelSecret(t, ns, "sa-token", false, map[string]string{"token": "eyJhbGciOi"})
	unmarked := webhookChannel(t, ns, "unmarked", "sa-token")
	channelReady(t, unmarked, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotMarked, klaxonv1alpha1.LabelChannelSecret+"=true")

	// A Secret with only whitespace under the key is as good as missing.
	channelSecret(t, ns, "blank-token", true, map[string]string{"token": " \n"})
	blank := webhookChannel(t, ns, "blank", "blank-token")
	channelReady(t, blank, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotFound, `no key "token"`)

	// A missing Secret is waited for: no watch reports it, the recheck does.
	late := webhookChannel(t, ns, "late", "late-token")
	channelReady(t, late, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotFound, "Secret late-token not found")
	channelSecret(t, ns, "late-token", true, map[string]string{"token": "s3cret"})
	channelReady(t, late, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")

	// A receiver block Alertmanager does not load stalls the channel with
	// Alertmanager's own complaint.
	channelSecret(t, ns, "receiver", true, map[string]string{"receiver.yaml": "name: team\nno_such_configs:\n- url: http://example.com\n"})
	am := createChannel(t, ns, "am", klaxonv1alpha1.NotificationChannelSpec{Alertmanager: &klaxonv1alpha1.AlertmanagerChannel{
		ReceiverSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "receiver", Key: "receiver.yaml"},
	}})
	channelReady(t, am, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel,
		`Secret receiver, key "receiver.yaml": the receiver block does not load: line 2: field no_such_configs not found`)
}

// A namespace that has not granted the operator its Secrets says so on the
// channel.
func TestNotificationChannelSecretForbidden(t *testing.T) {
	ns := newNamespace(t)
	channelSecret(t, ns, "hook-token", true, map[string]string{"token": "s3cret"})
	ch := webhookChannel(t, ns, "hook", "hook-token")
	channelReady(t, ch, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretForbidden, "RoleBinding")
}

func TestResponderReadiness(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	alice := &klaxonv1alpha1.Responder{
		ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{
			Contacts: []klaxonv1alpha1.Contact{{Name: "hook", Channel: "pager", Address: "alice"}},
			Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "hook"}},
		},
	}
	if err := k8s.Create(ctx, alice); err != nil {
		t.Fatal(err)
	}
	responderReady(t, alice, metav1.ConditionFalse, klaxonv1alpha1.ReasonChannelNotFound, "pager (contact hook) not found")

	// The channel appears and becomes Ready: its watch wakes the responder,
	// which asks for no requeue while it waits.
	channelSecret(t, ns, "pager-token", true, map[string]string{"token": "s3cret"})
	pager := webhookChannel(t, ns, "pager", "pager-token")
	channelReady(t, pager, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")
	responderReady(t, alice, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "1 contact, 1 rule")

	// A channel that exists but cannot send keeps its responders waiting.
	createChannel(t, ns, "broken", klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
		URL: "https://hooks.example.com/klaxon", TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "absent", Key: "token"},
	}})
	bob := &klaxonv1alpha1.Responder{
		ObjectMeta: metav1.ObjectMeta{Name: "bob", Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{
			{Name: "hook", Channel: "pager", Address: "bob"},
			{Name: "backup", Channel: "broken", Address: "bob"},
		}},
	}
	if err := k8s.Create(ctx, bob); err != nil {
		t.Fatal(err)
	}
	responderReady(t, bob, metav1.ConditionFalse, klaxonv1alpha1.ReasonChannelNotReady, "broken (contact backup")
}
