package controller_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The suite's operator may reach 127.0.0.1 and ::1 only
// (suite.LoopbackEgress): the rest of 127.0.0.0/8 stands for the addresses
// the egress policy refuses by default.

// serveOn starts h on addr, a loopback address the test chooses.
func serveOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// failedDeliveries waits until every delivery of inc has failed for good
// and returns their errors by contact.
func failedDeliveries(t *testing.T, inc *klaxonv1alpha1.Incident, n int) map[string]string {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	eventually(t, fmt.Sprintf("%d failed deliveries", n), func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return false, err
		}
		failed := 0
		for _, d := range got.Status.Notifications {
			if d.State == klaxonv1alpha1.NotificationFailed && d.Error != "" {
				failed++
			}
		}
		return failed == n, nil
	})
	errs := map[string]string{}
	for _, d := range got.Status.Notifications {
		errs[d.Contact] = d.Error
	}
	return errs
}

// A webhook on a refused address fails for good with Klaxon's words, the
// same for an open and a closed port, and is never connected to.
func TestWebhookToRefusedAddressFailsTheSameOpenOrClosed(t *testing.T) {
	ns := newNamespace(t)
	var hits atomic.Int32
	open := serveOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("internal service"))
	}))
	l, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	hookChannel(t, ns, "open", open.URL)
	hookChannel(t, ns, "closed", closed)
	responder(t, ns, "alice", nil, "open", "closed")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "probe", withPolicy("direct"))

	errs := failedDeliveries(t, inc, 2)
	if errs["open"] != errs["closed"] {
		t.Errorf("open port: %q; closed port: %q; want the same error", errs["open"], errs["closed"])
	}
	if !strings.Contains(errs["open"], "egress policy refuses") || strings.Contains(errs["open"], "127.0.0") ||
		strings.Contains(errs["open"], "internal service") {
		t.Errorf("error %q; want the refusal in Klaxon's words alone", errs["open"])
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused server got %d requests", n)
	}
}

// A 403 whose body holds a secret leaves the status with the status code
// alone.
func TestAnswerBodyStaysOutOfStatus(t *testing.T) {
	ns := newNamespace(t)
	srv := serveOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("db_password=hunter2"))
	}))
	hookChannel(t, ns, "hook", srv.URL)
	responder(t, ns, "alice", nil, "hook")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "forbidden", withPolicy("direct"))

	errs := failedDeliveries(t, inc, 1)
	if !strings.Contains(errs["hook"], "HTTP 403") || strings.Contains(errs["hook"], "db_password") || strings.Contains(errs["hook"], "hunter2") {
		t.Errorf("error %q; want HTTP 403 and no body", errs["hook"])
	}
}

// A slack_configs api_url that answers 303 towards a metadata stand-in:
// the redirect is not followed (the stand-in is on a refused address as
// well), and its credentials reach no status.
func TestAlertmanagerReceiverRedirectNotFollowed(t *testing.T) {
	ns := newNamespace(t)
	var hits atomic.Int32
	metadata := serveOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"wJalrXUtnFEMI"}`))
	}))
	first := serveOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, metadata.URL+"/latest/meta-data/iam/security-credentials/role", http.StatusSeeOther)
	}))
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, "receiver", true, map[string]string{
		"receiver.yaml": fmt.Sprintf("slack_configs:\n- api_url: %s/hook\n  channel: '#oncall'\n  http_config: {follow_redirects: true}\n", first.URL),
	})
	createChannel(t, ns, "am", klaxonv1alpha1.NotificationChannelSpec{Alertmanager: &klaxonv1alpha1.AlertmanagerChannel{
		ReceiverSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "receiver", Key: "receiver.yaml"},
	}})
	responder(t, ns, "alice", nil, "am")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "redirect", withPolicy("direct"))

	errs := failedDeliveries(t, inc, 1)
	if !strings.Contains(errs["am"], "HTTP 303") || strings.Contains(errs["am"], "AccessKeyId") || strings.Contains(errs["am"], "ASIA") {
		t.Errorf("error %q; want HTTP 303 and no credentials", errs["am"])
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// A receiver block that sets request headers is refused at load, naming
// the field.
func TestAlertmanagerReceiverHeadersRefused(t *testing.T) {
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, "receiver", true, map[string]string{
		"receiver.yaml": "webhook_configs:\n- url: http://metadata.google.internal/computeMetadata/v1/\n" +
			"  http_config: {http_headers: {Metadata-Flavor: {values: [Google]}}}\n",
	})
	am := createChannel(t, ns, "am", klaxonv1alpha1.NotificationChannelSpec{Alertmanager: &klaxonv1alpha1.AlertmanagerChannel{
		ReceiverSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "receiver", Key: "receiver.yaml"},
	}})
	channelReady(t, am, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel,
		"webhook_configs[0].http_config.http_headers is refused")
}
