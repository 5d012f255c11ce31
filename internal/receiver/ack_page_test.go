package receiver_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// ackKey loads the acknowledge-link key as the operator does: as the
// operator's identity, with only the shipped RBAC.
func ackKey(t *testing.T) *acklink.Signer {
	t.Helper()
	c := operatorClient(t)
	s, err := keystore.Load(context.Background(), c, c, localcluster.OperatorNamespace, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func operatorClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cluster.OperatorConfig, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ackReceiver serves a receiver that verifies links with signer.
func ackReceiver(t *testing.T, signer *acklink.Signer) string {
	t.Helper()
	keys := &acklink.Keyring{}
	keys.Set(signer)
	return newReceiver(t, nil, func(o *receiver.Options) { o.AckKeys = keys }).URL
}

// triggeredIncident creates an incident as a person would and waits until
// the operator has accepted its first episode and the cache has that.
func triggeredIncident(t *testing.T, ns, name, title string) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.IncidentSpec{Title: title, Severity: klaxonv1alpha1.SeverityCritical,
			Service: "checkout", Impact: "Payments fail for 30% of customers"},
	}
	if err := k8s.Create(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	return waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1)
}

// waitForEpisode waits until the incident (by UID) has the phase and episode,
// in the API server and in the operator's cache, and returns it.
func waitForEpisode(t *testing.T, inc *klaxonv1alpha1.Incident, phase klaxonv1alpha1.IncidentState, episode int32) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	eventually(t, "incident "+inc.Name+" to be "+string(phase), func(ctx context.Context) (bool, error) {
		cached := &klaxonv1alpha1.Incident{}
		ok := func(i *klaxonv1alpha1.Incident) bool {
			return i.UID == inc.UID && i.Status.Phase == phase && i.Status.Episode == episode
		}
		// Not found yet (the cache lags) is not an error: keep waiting.
		found := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got) == nil && mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), cached) == nil
		return found && ok(got) && ok(cached) && cached.ResourceVersion == got.ResourceVersion, nil
	})
	return got
}

func claimsFor(inc *klaxonv1alpha1.Incident, responder string) acklink.Claims {
	return acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID),
		Episode: inc.Status.Episode, Responder: responder, Expires: time.Now().Add(time.Hour)}
}

// fetch requests url and returns the status, the body and the headers.
func fetch(t *testing.T, method, url string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func resourceVersion(t *testing.T, inc *klaxonv1alpha1.Incident) string {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	return got.ResourceVersion
}

func TestAckLinkShowsThenAcknowledges(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base := ackReceiver(t, signer)
	inc := triggeredIncident(t, ns, "checkout-down", "<script>alert(1)</script> checkout down")
	link := signer.URL(base, claimsFor(inc, "ada"))
	rv := resourceVersion(t, inc)

	// GET shows the incident and the button, and changes nothing.
	code, body, h := fetch(t, http.MethodGet, link)
	if code != http.StatusOK {
		t.Fatalf("GET answered %d: %s", code, body)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt; checkout down`, `<meta name="robots" content="noindex`,
		"SEV1", "Triggered", "checkout", "Payments fail for 30% of customers",
		`<form method="post">`, "Acknowledge as ada",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("the title was not escaped:\n%s", body)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if head, _, _ := fetch(t, http.MethodHead, link); head != http.StatusOK {
		t.Errorf("HEAD answered %d", head)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Fatalf("GET changed the incident: resourceVersion %s, was %s", got, rv)
	}

	// POST acknowledges as the link's responder.
	code, body, _ = submitForm(t, link)
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged by ada") || strings.Contains(body, "<form") {
		t.Fatalf("POST answered %d:\n%s", code, body)
	}
	acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "ada" || acked.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("acknowledgedBy %q, actor %q; want ada", acked.Status.AcknowledgedBy, acked.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	if last := acked.Status.Timeline[len(acked.Status.Timeline)-1]; last.Type != klaxonv1alpha1.TimelineAcknowledged || last.Actor != "ada" {
		t.Errorf("last timeline entry %+v, want Acknowledged by ada", last)
	}
	eventually(t, "an Event naming ada", func(ctx context.Context) (bool, error) {
		list := &eventsv1.EventList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Regarding.UID == inc.UID && e.Reason == klaxonv1alpha1.TimelineAcknowledged && strings.Contains(e.Note, "ada") {
				return true, nil
			}
		}
		return false, nil
	})

	// A replay (a second click, or another responder's link) changes nothing.
	rv = resourceVersion(t, acked)
	for _, l := range []string{link, signer.URL(base, claimsFor(inc, "grace"))} {
		code, body, _ = submitForm(t, l)
		if code != http.StatusOK || !strings.Contains(body, "already acknowledged") || !strings.Contains(body, "acknowledged by ada") {
			t.Errorf("replayed POST answered %d:\n%s", code, body)
		}
	}
	code, body, _ = fetch(t, http.MethodGet, link)
	if code != http.StatusOK || strings.Contains(body, "<form") || !strings.Contains(body, "already acknowledged") {
		t.Errorf("GET after acknowledgement answered %d:\n%s", code, body)
	}
	if got := resourceVersion(t, acked); got != rv {
		t.Errorf("a replay changed the incident: resourceVersion %s, was %s", got, rv)
	}
}

func TestAckLinkRefusals(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	// Failed links are limited per client: each check gets a receiver of
	// its own, so the limit does not answer in place of the check.
	base := func() string { return ackReceiver(t, signer) }
	const at = "http://receiver"
	path := func(url string) string { return strings.TrimPrefix(url, at) }
	ctx := context.Background()

	// An old episode: the incident was resolved and reopened since.
	reopened := triggeredIncident(t, ns, "reopened", "Search is slow")
	oldEpisode := signer.URL(at, claimsFor(reopened, "ada"))
	setState(t, reopened, klaxonv1alpha1.StateResolved)
	waitForEpisode(t, reopened, klaxonv1alpha1.StateResolved, 1)
	setState(t, reopened, klaxonv1alpha1.StateTriggered)
	reopened = waitForEpisode(t, reopened, klaxonv1alpha1.StateTriggered, 2)

	// Another incident of the same name: deleted and created again.
	recreated := triggeredIncident(t, ns, "recreated", "Login fails")
	otherIncident := signer.URL(at, claimsFor(recreated, "ada"))
	if err := k8s.Delete(ctx, recreated); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the incident to be deleted", func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(recreated), &klaxonv1alpha1.Incident{})), nil
	})
	again := triggeredIncident(t, ns, "recreated", "Login fails")

	live := triggeredIncident(t, ns, "live", "Checkout is down")
	expiredClaims := claimsFor(live, "ada")
	expiredClaims.Expires = time.Now().Add(-time.Minute)
	good := signer.Sign(claimsFor(live, "ada"))
	flipped := []byte(good)
	flipped[len(flipped)/4] ^= 'A' ^ 'B' // stays in the base64url alphabet
	if flipped[len(flipped)/4] == good[len(good)/4] {
		t.Fatal("the byte did not flip")
	}
	other, err := acklink.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	// The same claims naming an incident that never existed: the answer to
	// a forged link must not tell which incidents exist.
	ghost := claimsFor(live, "ada")
	ghost.Name = "no-such-incident"

	rvs := map[*klaxonv1alpha1.Incident]string{reopened: resourceVersion(t, reopened), again: resourceVersion(t, again), live: resourceVersion(t, live)}
	cases := map[string]struct {
		url  string
		code int
		says string
	}{
		"old episode":        {oldEpisode, http.StatusGone, "earlier episode"},
		"recreated incident": {otherIncident, http.StatusGone, "another incident has its name"},
		"expired":            {signer.URL(at, expiredClaims), http.StatusGone, "expired"},
		"flipped byte":       {at + "/ack/" + string(flipped), http.StatusForbidden, "not valid"},
		"other key":          {other.URL(at, claimsFor(live, "ada")), http.StatusForbidden, "not valid"},
		"other key, no such": {other.URL(at, ghost), http.StatusForbidden, "not valid"},
		"malformed":          {at + "/ack/not-a-token", http.StatusBadRequest, "malformed"},
		"cut short":          {at + "/ack/" + good[:len(good)-10], http.StatusBadRequest, "malformed"},
		"too long":           {at + "/ack/" + strings.Repeat("A", 2000) + "." + "B", http.StatusBadRequest, "malformed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				code, body, h := fetch(t, method, base()+path(tc.url))
				if code != tc.code || !strings.Contains(body, tc.says) {
					t.Errorf("%s answered %d, want %d saying %q:\n%s", method, code, tc.code, tc.says, body)
				}
				if strings.Contains(body, "<form") || h.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: an error page with a form or without Cache-Control: no-store", method)
				}
			}
		})
	}
	// A forged link for an incident that exists and one for an incident
	// that does not are answered alike.
	_, a, _ := fetch(t, http.MethodGet, base()+path(other.URL(at, claimsFor(live, "ada"))))
	_, b, _ := fetch(t, http.MethodGet, base()+path(other.URL(at, ghost)))
	if a != b {
		t.Errorf("forged links answered differently:\n%s\n---\n%s", a, b)
	}
	// A link for an incident deleted for good.
	if err := k8s.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the incident to be deleted", func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(again), &klaxonv1alpha1.Incident{})), nil
	})
	if code, body, _ := fetch(t, http.MethodPost, base()+path(signer.URL(at, claimsFor(again, "ada")))); code != http.StatusGone || !strings.Contains(body, "no longer exists") {
		t.Errorf("a link to a deleted incident answered %d:\n%s", code, body)
	}
	if code, _, h := fetch(t, http.MethodPut, base()+path(signer.URL(at, claimsFor(live, "ada")))); code != http.StatusMethodNotAllowed || h.Get("Allow") == "" {
		t.Errorf("PUT answered %d, Allow %q", code, h.Get("Allow"))
	}
	delete(rvs, again)
	for inc, rv := range rvs {
		if got := resourceVersion(t, inc); got != rv {
			t.Errorf("incident %s changed: resourceVersion %s, was %s", inc.Name, got, rv)
		}
	}
}

func TestAckLinkBodyIsBounded(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base := ackReceiver(t, signer)
	inc := triggeredIncident(t, ns, "big-body", "Queue is stuck")
	resp, err := http.Post(signer.URL(base, claimsFor(inc, "ada")), "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("x", 4<<10)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 4 KiB body answered %d, want 413", resp.StatusCode)
	}
	waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1)
}

// Links that fail to verify are limited per client: past the burst the
// receiver refuses without verifying, and valid links from that client too.
func TestAckLinkFailuresAreRateLimited(t *testing.T) {
	base := ackReceiver(t, ackKey(t))
	limited := false
	for i := range 40 {
		code, _, h := fetch(t, http.MethodGet, base+"/ack/garbage")
		if code == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			limited = i >= 10
			break
		}
	}
	if !limited {
		t.Error("40 failed links in a row were not limited after the first 10")
	}
}

func setState(t *testing.T, inc *klaxonv1alpha1.Incident, state klaxonv1alpha1.IncidentState) {
	t.Helper()
	patch := client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"state":"`+string(state)+`"}}`))
	if err := k8s.Patch(context.Background(), inc.DeepCopy(), patch); err != nil {
		t.Fatal(err)
	}
}

// The key Secret is created when missing, by one replica when several race,
// and reused when present: an operator started later verifies the links of
// one started earlier.
func TestAckKeySecret(t *testing.T) {
	ctx := context.Background()
	key := client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: keystore.SecretName}
	if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	// Replicas racing to create it end up with one key.
	c := operatorClient(t)
	var wg sync.WaitGroup
	signers := make([]*acklink.Signer, 4)
	errs := make([]error, 4)
	for i := range signers {
		wg.Go(func() { signers[i], errs[i] = keystore.Load(ctx, c, c, key.Namespace, rand.Reader) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, s := range signers[1:] {
		if !s.Equal(signers[0]) {
			t.Fatal("racing replicas loaded different keys")
		}
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, key, secret); err != nil {
		t.Fatal(err)
	}
	if n := len(secret.Data[keystore.SecretKey]); n != keystore.KeyLength {
		t.Fatalf("the key has %d bytes, want %d", n, keystore.KeyLength)
	}

	// The operator's own wiring: it loads the key and its receiver
	// verifies links signed with it, across a restart.
	ns := newNamespace(t)
	inc := triggeredIncident(t, ns, "restarted", "Disk is full")
	token := signers[0].Sign(claimsFor(inc, "ada"))
	for _, start := range []string{"first", "second"} {
		addr := proc.FreeAddr(t)
		_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
			MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: addr, PublicURL: "http://" + addr, Restartable: true,
			EgressAllow: suite.LoopbackEgress,
		})
		if err != nil {
			t.Fatal(err)
		}
		// Until the key is loaded (or the receiver listens) the answer is
		// 503 (or no answer); a different key would answer 403.
		code := 0
		suite.Eventually(t, "the "+start+" operator to show the link", suite.DefaultTimeout, func(ctx context.Context) (bool, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ack/"+token, nil)
			// Refused connections mean the receiver is not listening yet.
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
				code = resp.StatusCode
			}
			return code != 0 && code != http.StatusServiceUnavailable, nil
		})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if code != http.StatusOK {
			t.Fatalf("the %s operator answered the link %d", start, code)
		}
	}
	again := &corev1.Secret{}
	if err := k8s.Get(ctx, key, again); err != nil {
		t.Fatal(err)
	}
	if again.UID != secret.UID || again.ResourceVersion != secret.ResourceVersion {
		t.Error("the key Secret was replaced or changed by a later start")
	}
}

// ntfy's http action POSTs the acknowledge link with no form and without
// asking for HTML: it acknowledges as the button does, in one line of text.
func TestAckLinkBarePost(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base := ackReceiver(t, signer)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	link := signer.URL(base, claimsFor(inc, "alice"))
	bare := func(link string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, link, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "ntfy/1.24.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}

	code, body, h := bare(link)
	if code != http.StatusOK || body != "Acknowledged by alice.\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("bare POST answered %d (%s): %q", code, h.Get("Content-Type"), body)
	}
	if got := h.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want * (ntfy's web app reads the answer from its own origin)", got)
	}
	acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "alice" {
		t.Errorf("acknowledgedBy %q, want alice", acked.Status.AcknowledgedBy)
	}
	rv := resourceVersion(t, acked)
	// Another responder's action, later, changes nothing and says so.
	code, body, _ = bare(signer.URL(base, claimsFor(inc, "bob")))
	if code != http.StatusOK || body != "Already acknowledged by alice; nothing was changed.\n" {
		t.Errorf("second bare POST answered %d: %q", code, body)
	}
	if got := resourceVersion(t, acked); got != rv {
		t.Errorf("a second bare POST changed the incident: resourceVersion %s, was %s", got, rv)
	}
	// A link that does not verify answers its status in a line too.
	code, body, h = bare(link + "x")
	if code < 400 || strings.Contains(body, "<") || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("a bad link answered %d (%s): %q", code, h.Get("Content-Type"), body)
	}
	// A browser's POST of the form still gets the page.
	code, body, h = submitForm(t, link)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "already acknowledged") {
		t.Errorf("the form's POST answered %d (%s): %s", code, h.Get("Content-Type"), body)
	}
}

// submitForm posts the acknowledge page's form as a browser does.
func submitForm(t *testing.T, link string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, link, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}
