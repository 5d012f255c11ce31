package receiver_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// FuzzReceiverRequest sends arbitrary methods, URLs, tokens and bodies to a
// real receiver in front of the real API server: every answer is one of the
// documented codes, only the route's own token and a valid body get 2xx,
// and nothing is ever written outside the route's namespace. The workers
// attach to the control plane TestMain started (localcluster.Share).
func FuzzReceiverRequest(f *testing.F) {
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, "fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		f.Fatal(err)
	}
	if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tok", Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}}, StringData: map[string]string{"token": token}}); err != nil {
		f.Fatal(err)
	}
	// Its own route name: only the fuzzed receiver writes incidents labelled
	// with it, whatever else the shared control plane holds.
	ar := &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: "fuzzed", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "tok", Key: "token"}}}
	if err := k8s.Create(ctx, ar); err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(receiver.New(mgr.GetClient(), mgr.GetAPIReader(), receiver.Options{MaxBodyBytes: 64 << 10}, ctrl.Log.WithName("fuzz")).Handler())
	f.Cleanup(srv.Close)
	own := "/alertmanager/" + ns + "/fuzzed"

	valid := string(firing("firing", alert("a1", "firing")))
	for _, seed := range []struct{ method, path, bearer, body string }{
		{"POST", own, token, valid},
		{"POST", own, token + "\n", valid},
		{"POST", own, "", valid},
		{"GET", own, token, ""},
		{"POST", "/alertmanager/" + ns + "/..%2f..%2fkube-system", token, valid},
		{"POST", "/alertmanager/../" + ns + "/payments", token, valid},
		{"POST", "/alertmanager/kube-system/payments", token, valid},
		{"POST", "/alertmanager/" + strings.Repeat("n", 300) + "/payments", token, valid},
		{"POST", "/alertmanager/" + ns + "/" + strings.Repeat("r", 10000), token, valid},
		{"POST", "/alertmanager/ÄÖÜ/%00", token, valid},
		{"POST", own, token, `{"version":"4","groupKey":"g","status":"firing","alerts":[` + strings.Repeat(`{"status":"firing"},`, 100) + `{}]}`},
		{"POST", own, token, strings.Repeat("[", 10000)},
		{"POST", own, token, "\xff\xfe"},
	} {
		f.Add(seed.method, seed.path, seed.bearer, seed.body)
	}
	allowed := map[int]bool{200: true, 301: true, 307: true, 308: true, 400: true, 401: true, 404: true, 405: true, 413: true, 503: true}
	f.Fuzz(func(t *testing.T, method, path, bearer, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#?") {
			return // not a request line a client can send
		}
		req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		if bearer != "" {
			if strings.ContainsAny(bearer, "\r\n\x00") {
				return
			}
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // the server closed a request Go's client could not send
		}
		_ = resp.Body.Close()
		if !allowed[resp.StatusCode] {
			t.Fatalf("%s %q answered %d", method, path, resp.StatusCode)
		}
		if resp.StatusCode == http.StatusOK && strings.TrimSpace(bearer) != token {
			t.Fatalf("%s %q with token %q answered 200", method, path, bearer)
		}
		list := &klaxonv1alpha1.IncidentList{}
		if err := k8s.List(context.Background(), list, client.MatchingLabels{klaxonv1alpha1.LabelAlertRoute: "fuzzed"}); err != nil {
			t.Fatal(err)
		}
		// Fuzz workers share the control plane, each with a fuzz- namespace
		// of its own; no URL may make the receiver write anywhere else.
		for _, inc := range list.Items {
			if !strings.HasPrefix(inc.Namespace, "fuzz-") {
				t.Fatalf("incident %s/%s written outside the route's namespace", inc.Namespace, inc.Name)
			}
		}
	})
}
