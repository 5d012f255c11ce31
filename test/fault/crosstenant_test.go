package fault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// crossTenantSecret stands for what a server behind the operator would give
// away: it must never reach an incident's status.
const crossTenantSecret = "db_password=hunter2"

// TestCrossTenantSilenceAndEgress runs the operator as shipped for two
// namespaces and lets B's incident editor try what the shipped roles must
// not allow: naming A's alert group in an incident (acknowledging it would
// silence A's alerts), and making the operator connect where B's channels
// say: a cloud metadata address (plain and IPv4-mapped), the API server
// itself, and an allowed server whose refusal carries a secret.
func TestCrossTenantSilenceAndEgress(t *testing.T) {
	ctx := context.Background()
	a, b := tenantNamespace(t, "xtenant-a-"), tenantNamespace(t, "xtenant-b-")
	var leakyHits atomic.Int32
	leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		leakyHits.Add(1)
		http.Error(w, "forbidden for now; "+crossTenantSecret, http.StatusForbidden)
	}))
	t.Cleanup(leaky.Close)
	apiServer := strings.TrimSuffix(cluster.AdminConfig.Host, "/")

	tenantCreate(t,
		tenantTokenSecret(a, "a-token", tenantTokenA),
		crossTenantHook(b, "metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
		crossTenantHook(b, "metadata-mapped", "http://[::ffff:169.254.169.254]/latest/meta-data/"),
		crossTenantHook(b, "apiserver", apiServer+"/api/v1/namespaces/"+a+"/secrets"),
		crossTenantHook(b, "leaky", leaky.URL+"/hook"),
		&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "hooks", Namespace: b},
			Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{
				{Channel: "metadata", Address: "x"}, {Channel: "metadata-mapped", Address: "x"},
				{Channel: "apiserver", Address: "x"}, {Channel: "leaky", Address: "x"},
			}}}}},
	)
	op := startOperator(t, "xtenant", "--watch-namespaces="+a+","+b)
	tenantCreateRoute(t, a, "a-token")

	// A's Alertmanager opens an incident of A's group.
	c := hostileCase{name: "A's group", path: "/alertmanager/" + a + "/alerts", auth: "Bearer " + tenantTokenA,
		body: hostilePayload("CrossTenant", 1, nil), code: http.StatusOK}
	if code, says := hostileSend(t, op.receiverURL, c); code != c.code {
		t.Fatalf("%s: answered %d %q", c.name, code, says)
	}
	incsA := tenantIncidents(t, a)
	if len(incsA) != 1 || incsA[0].Spec.Source == nil {
		t.Fatalf("A holds %d incidents, want one with spec.source", len(incsA))
	}
	sourceA := incsA[0].Spec.Source

	// mallory edits incidents in B, and only there.
	mallory, err := cluster.AsIncidentEditor(ctx, b, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	const refusal = "spec.source is set only by Klaxon's receiver"
	forged := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: b},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Looks like A's outage", Source: sourceA.DeepCopy()}}
	if err := mallory.Create(ctx, forged); err == nil || !strings.Contains(err.Error(), refusal) {
		t.Errorf("mallory creating an incident in B with A's spec.source: %v, want refused saying %q", err, refusal)
	}
	byHand := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: "by-hand", Namespace: b},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Webhooks of B", Severity: klaxonv1alpha1.SeverityCritical,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "hooks"}}}
	if err := mallory.Create(ctx, byHand); err != nil {
		t.Fatalf("mallory opening an incident by hand in B: %v", err)
	}
	withSource := byHand.DeepCopy()
	withSource.Spec.Source = sourceA.DeepCopy()
	// The CRD's immutability rule answers before the admission policy can.
	const immutable = "spec.source is immutable"
	if err := mallory.Patch(ctx, withSource, client.MergeFrom(byHand)); err == nil ||
		(!strings.Contains(err.Error(), refusal) && !strings.Contains(err.Error(), immutable)) {
		t.Errorf("mallory giving her incident A's spec.source: %v, want refused saying %q or %q", err, refusal, immutable)
	}
	incA := incsA[0].DeepCopy()
	incA.Spec.State = klaxonv1alpha1.StateAcknowledged
	if err := mallory.Patch(ctx, incA, client.MergeFrom(&incsA[0])); !apierrors.IsForbidden(err) {
		t.Errorf("mallory acknowledging A's incident: %v, want Forbidden", err)
	}
	if incs := tenantIncidents(t, b); len(incs) != 1 || incs[0].Spec.Source != nil {
		t.Errorf("B holds %d incidents (want mallory's one, without spec.source)", len(incs))
	}

	// B's incident pages its four channels; the guard refuses three of them
	// alike, and the allowed one's answer stays out of status.
	got := &klaxonv1alpha1.Incident{}
	eventually(t, "B's four deliveries to have failed", 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(byHand), got); err != nil {
			return false, err
		}
		failed := 0
		for _, n := range got.Status.Notifications {
			if n.State == klaxonv1alpha1.NotificationFailed && n.Error != "" {
				failed++
			}
		}
		return failed == 4, nil
	})
	errs := map[string]string{}
	for _, n := range got.Status.Notifications {
		errs[n.Channel] = n.Error
	}
	refused := errs["metadata"]
	if !strings.Contains(refused, "the egress policy refuses this address") {
		t.Errorf("the metadata address failed with %q, want the egress policy's refusal", refused)
	}
	for _, ch := range []string{"metadata-mapped", "apiserver"} {
		if errs[ch] != refused {
			t.Errorf("channel %s failed with %q, want the same words as the metadata address: %q", ch, errs[ch], refused)
		}
	}
	if e := errs["leaky"]; !strings.Contains(e, "HTTP 403") || strings.Contains(e, "hunter2") || strings.Contains(e, "forbidden for now") {
		t.Errorf("the leaky server's refusal is stored as %q: want its HTTP status and none of its body", e)
	}
	if n := leakyHits.Load(); n == 0 {
		t.Error("the allowed server was never called")
	}
	if err := crossTenantNothingStored(ctx, b, got); err != nil {
		t.Error(err)
	}
	if !op.running() {
		t.Errorf("the operator exited")
	}
}

// crossTenantHook is a webhook channel of namespace ns posting to url.
func crossTenantHook(ns, name, url string) *klaxonv1alpha1.NotificationChannel {
	return &klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{URL: url}}}
}

// crossTenantNothingStored checks that neither the incident nor its Events
// hold what the leaky server or the address guard knows: the body's secret,
// or the addresses that were refused. (The channels' own Events name their
// hosts, which their author wrote.)
func crossTenantNothingStored(ctx context.Context, ns string, inc *klaxonv1alpha1.Incident) error {
	var found []string
	check := func(where, text string) {
		for _, bad := range []string{"hunter2", "169.254", "a9fe"} {
			if strings.Contains(text, bad) {
				found = append(found, fmt.Sprintf("%s holds %q: %s", where, bad, text))
			}
		}
	}
	check("the incident's status", fmt.Sprintf("%+v", inc.Status))
	events := &eventsv1.EventList{}
	if err := k8s.List(ctx, events, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Regarding.Kind == "Incident" && e.Regarding.Name == inc.Name {
			check("an Event of the incident", e.Note)
		}
	}
	if len(found) > 0 {
		return errors.New(strings.Join(found, "\n"))
	}
	return nil
}
