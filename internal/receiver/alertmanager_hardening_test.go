package receiver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// Requests for made-up namespaces and routes add no metric series: only
// routes that exist are labelled.
func TestMetricLabelsStayBounded(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil)
	series := func() int {
		return testutil.CollectAndCount(metrics.ReceiverRequests) + testutil.CollectAndCount(metrics.ReceiverDuration)
	}
	// Warm the series a scan can reach at all.
	post(t, srv.URL, http.MethodGet, "/alertmanager/warm/x", "", nil)
	post(t, srv.URL, http.MethodPost, "/alertmanager/warm/x", "", nil)
	post(t, srv.URL, http.MethodPost, "/alertmanager/warm/x", "guess", nil)
	for i := range 10 { // past the rate of live reads: 503
		post(t, srv.URL, http.MethodPost, fmt.Sprintf("/alertmanager/%s/warm-%d", ns, i), "guess", nil)
	}
	before := series()
	for i := range 200 {
		post(t, srv.URL, http.MethodGet, fmt.Sprintf("/alertmanager/scan-%d/r-%d", i, i), "", nil)
		post(t, srv.URL, http.MethodPost, fmt.Sprintf("/alertmanager/scan-%d/r-%d", i, i), "", nil)
		post(t, srv.URL, http.MethodPost, fmt.Sprintf("/alertmanager/%s/r-%d", ns, i), "guess", nil)
	}
	if after := series(); after != before {
		t.Errorf("600 requests for made-up routes added %d metric series", after-before)
	}
}

// An anonymous caller cannot tell which routes exist: a wrong token gets the
// same answer whether the route exists or not. A caller with a token of the
// namespace learns of a typo in its URL.
func TestAnswersRevealNothingBeforeAuthentication(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil)
	body := firing("firing", alert("a1", "firing"))
	strip := func(msg, path string) string { return strings.ReplaceAll(msg, path, "PATH") }

	existing := "/alertmanager/" + ns + "/payments"
	missing := "/alertmanager/" + ns + "/nope"
	codeE, msgE := post(t, srv.URL, http.MethodPost, existing, "guess", body)
	codeM, msgM := post(t, srv.URL, http.MethodPost, missing, "guess", body)
	if codeE != http.StatusUnauthorized || codeM != codeE || strip(msgE, existing) != strip(msgM, missing) {
		t.Errorf("wrong token: existing route %d %q, missing route %d %q; want the same 401", codeE, msgE, codeM, msgM)
	}
	if code, _ := post(t, srv.URL, http.MethodPost, missing, "", body); code != http.StatusUnauthorized {
		t.Errorf("no token for a missing route: %d, want 401", code)
	}
	if code, msg := post(t, srv.URL, http.MethodPost, missing, token, body); code != http.StatusNotFound || !strings.Contains(msg, "not found") {
		t.Errorf("the namespace's token for a missing route: %d %q, want 404", code, msg)
	}

	// A route whose Secret is gone cannot authenticate anyone: 503 (so
	// Alertmanager retries), naming neither the Secret nor its key.
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alertmanager-token", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	fresh := newReceiver(t, nil) // no token remembered
	code, msg := post(t, fresh.URL, http.MethodPost, existing, "guess", body)
	if code != http.StatusServiceUnavailable || strings.Contains(msg, "alertmanager-token") || strings.Contains(msg, `"token"`) {
		t.Errorf("route without its Secret: %d %q, want 503 without the Secret's name", code, msg)
	}
}

// A route the cache has not seen yet is read from the API server before the
// receiver says it does not exist: Alertmanager would drop a 404.
func TestRouteNotYetCachedIsReadLive(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	behind := interceptor.NewClient(withWatch{mgr.GetClient()}, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*klaxonv1alpha1.AlertRoute); ok {
				return apierrors.NewNotFound(schema.GroupResource{Group: "klaxon.dev", Resource: "alertroutes"}, key.Name)
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
	srv := newReceiver(t, behind)
	code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", alert("a1", "firing")))
	if code != http.StatusOK {
		t.Errorf("answer %d %q, want 200", code, msg)
	}
	if incs := groupIncidents(t, ns); len(incs) != 1 {
		t.Errorf("%d incidents, want 1", len(incs))
	}
}

// A Secret made with --from-file ends in a newline that Alertmanager does
// not send: the token still matches. A wrong token shows on the route.
func TestTokenIsComparedWithoutSurroundingWhitespace(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	ctx := context.Background()
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "alertmanager-token"}, secret); err != nil {
		t.Fatal(err)
	}
	secret.Data = map[string][]byte{"token": []byte(token + "\n")}
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	srv := newReceiver(t, nil)
	path := "/alertmanager/" + ns + "/payments"
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, firing("firing", alert("a1", "firing"))); code != http.StatusOK {
		t.Errorf("answer %d %q, want 200", code, msg)
	}
	if code, _ := post(t, srv.URL, http.MethodPost, path, "stale-token", firing("firing", alert("a1", "firing"))); code != http.StatusUnauthorized {
		t.Errorf("a wrong token answered %d, want 401", code)
	}
	ar := &klaxonv1alpha1.AlertRoute{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar); err != nil {
		t.Fatal(err)
	}
	if ar.Status.LastRejectedAt == nil || !strings.Contains(ar.Status.LastRejection, "did not match") {
		t.Errorf("route status after a wrong token: lastRejectedAt %v, lastRejection %q", ar.Status.LastRejectedAt, ar.Status.LastRejection)
	}
}

// Only MaxConcurrentParses bodies are read at once; the next is told to
// come back (503) instead of adding to the heap.
func TestConcurrentParsesAreBounded(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil, func(o *receiver.Options) { o.MaxConcurrentParses = 1 })
	path := srv.URL + "/alertmanager/" + ns + "/payments"
	body := firing("firing", alert("a1", "firing"))

	// A slow sender holds the only slot: its body arrives in two parts.
	pr, pw := io.Pipe()
	slow := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, path, pr)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		_ = resp.Body.Close()
		slow <- resp.StatusCode
	}()
	if _, err := pw.Write(body[:10]); err != nil {
		t.Fatal(err)
	}
	// Once part of its body arrived, the slow request is past authentication
	// and waiting for the rest with the slot held.
	time.Sleep(300 * time.Millisecond)
	if code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, body); code != http.StatusServiceUnavailable || !strings.Contains(msg, "busy") {
		t.Errorf("while the slot is held: %d %q, want 503 busy", code, msg)
	}
	if _, err := pw.Write(body[10:]); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if code := <-slow; code != http.StatusOK {
		t.Errorf("the slow sender got %d, want 200", code)
	}
	if code, _ := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, body); code != http.StatusOK {
		t.Errorf("after the slot is free: %d, want 200", code)
	}
}

// A route that keeps failing is logged at error level once a minute, not
// once per request: anyone can send requests.
func TestFailuresAreNotLoggedPerRequest(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alertmanager-token", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	var errorLines atomic.Int32
	log := funcr.New(func(prefix, args string) {
		if strings.Contains(args, "Answered a sender with an error") {
			errorLines.Add(1)
		}
	}, funcr.Options{Verbosity: 0})
	srv := httptest.NewServer(receiver.New(mgr.GetClient(), mgr.GetAPIReader(), receiver.Options{}, logr.New(log.GetSink())).Handler())
	t.Cleanup(srv.Close)
	for range 20 {
		if code, _ := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", "guess", firing("firing", alert("a1", "firing"))); code != http.StatusServiceUnavailable {
			t.Fatalf("answer %d, want 503", code)
		}
	}
	if n := errorLines.Load(); n != 1 {
		t.Errorf("20 failing requests logged %d error lines, want 1", n)
	}
}

// A route pointed at a Secret that is not marked as a receiver token cannot
// use it: guessing another Secret's value through the receiver gets nowhere.
func TestUnmarkedSecretIsNoToken(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	ctx := context.Background()
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-creds", Namespace: ns}, StringData: map[string]string{"password": "hunter2"}}
	if err := k8s.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	ar := &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: "oracle", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "db-creds", Key: "password"}}}
	if err := k8s.Create(ctx, ar); err != nil {
		t.Fatal(err)
	}
	srv := newReceiver(t, nil)
	for _, guess := range []string{"hunter2", "wrong"} {
		code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/oracle", guess, nil)
		if code != http.StatusServiceUnavailable {
			t.Errorf("guess %q answered %d %q, want the same 503 for every guess", guess, code, msg)
		}
	}
}

// Exhausting the lookups of unknown routes does not make existing routes
// stand out: while unknown routes answer "busy", so does a wrong token for an
// existing one.
func TestFloodDoesNotRevealRoutes(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil)
	for i := range 10 {
		post(t, srv.URL, http.MethodPost, fmt.Sprintf("/alertmanager/%s/flood-%d", ns, i), "guess", nil)
	}
	codeE, _ := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", "guess", nil)
	codeM, _ := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/nope", "guess", nil)
	if codeE != codeM {
		t.Errorf("after a flood: existing route %d, missing route %d; want the same answer", codeE, codeM)
	}
	// The route's own token still works.
	if code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", alert("a1", "firing"))); code != http.StatusOK {
		t.Errorf("the right token after a flood: %d %q", code, msg)
	}
}
