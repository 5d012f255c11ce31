package controller_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

// twilioNumber is the number a twilio channel of the tests texts and
// calls from: Twilio's test number that accepts everything.
const twilioNumber = "+15005550006"

// newTwilioAPI starts the Twilio stand-in for one test.
func newTwilioAPI(t *testing.T) *twiliotest.Server {
	t.Helper()
	return twiliotest.Start(t, twiliotest.Options{Number: twilioNumber})
}

// twilioSends counts the texts and calls the stand-in was asked for.
func twilioSends(api *twiliotest.Server) int { return len(api.Messages()) + len(api.Calls()) }

// twilioChannel creates a twilio channel to api, its credentials in a
// marked Secret, in a namespace that lets the operator read it.
func twilioChannel(t *testing.T, ns, name string, api *twiliotest.Server, limits *klaxonv1alpha1.PhoneLimits) *klaxonv1alpha1.NotificationChannel {
	t.Helper()
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, name+"-twilio", true, map[string]string{"sid": api.AccountSID, "token": api.AuthToken + "\n"})
	return createChannel(t, ns, name, klaxonv1alpha1.NotificationChannelSpec{Twilio: &klaxonv1alpha1.TwilioChannel{
		AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: name + "-twilio", Key: "sid"},
		AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: name + "-twilio", Key: "token"},
		From:                twilioNumber, BaseURL: api.URL, Limits: limits,
	}})
}

// publicOperator replaces the shared operator, for the rest of the test,
// by one with a public URL (its receiver's address), as twilio channels
// need, and returns that URL once the acknowledge key is loaded.
func publicOperator(t *testing.T) string {
	t.Helper()
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	addr := proc.FreeAddr(t)
	publicURL := "http://" + addr
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: addr, PublicURL: publicURL, Clock: fakeClock, Restartable: true,
		EgressAllow: suite.LoopbackEgress,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})
	waitForReceiver(t, publicURL)
	return publicURL
}

// ackSigner is the signer of the operators' acknowledge key.
func ackSigner(t *testing.T) *acklink.Signer {
	t.Helper()
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: keystore.DefaultNamespace, Name: keystore.SecretName}, secret); err != nil {
		t.Fatal(err)
	}
	s, err := acklink.NewSigner(secret.Data[keystore.SecretKey])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// phoneResponder creates alice with the given contacts, each with a rule
// (after, when set for its name, delays it).
func phoneResponder(t *testing.T, ns, name string, after map[string]time.Duration, contacts ...klaxonv1alpha1.Contact) *klaxonv1alpha1.Responder {
	t.Helper()
	r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{Contacts: contacts}}
	for _, c := range contacts {
		rule := klaxonv1alpha1.NotificationRule{Contact: c.Name}
		if d, ok := after[c.Name]; ok {
			rule.After = &metav1.Duration{Duration: d}
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	if err := k8s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// namespaceEventNotes returns the notes of the namespace's Events, and
// whether one has the reason.
func namespaceEventNotes(ctx context.Context, ns, reason string) ([]string, bool, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, false, err
	}
	var notes []string
	found := false
	for _, e := range list.Items {
		notes = append(notes, e.Note)
		found = found || e.Reason == reason
	}
	return notes, found, nil
}

// conditionMessage is the message of the incident's condition, "" when
// absent.
func conditionMessage(inc *klaxonv1alpha1.Incident, condType string) string {
	if c := meta.FindStatusCondition(inc.Status.Conditions, condType); c != nil {
		return c.Message
	}
	return ""
}
