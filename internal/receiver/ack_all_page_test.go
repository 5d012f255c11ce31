package receiver_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

func bundleClaims(ns, bundle, responder string) acklink.BundleClaims {
	return acklink.BundleClaims{Namespace: ns, Bundle: bundle, Responder: responder, Expires: time.Now().Add(time.Hour)}
}

// bundledPage is the Sent page of the incident's current episode that a
// bundle delivered to responder, as the sender records it.
func bundledPage(inc *klaxonv1alpha1.Incident, bundle, responder string) klaxonv1alpha1.Notification {
	n := sentPage(inc, responder, "+4915112345678", "ref-"+bundle+"-"+responder+"-"+inc.Name, 0, time.Now())
	n.Bundle = bundle
	return n
}

func TestAckAllLinkShowsThenAcknowledgesAll(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base := ackReceiver(t, signer)

	// Two incidents of the bundle that wait, and one acknowledged already.
	first := triggeredIncident(t, ns, "queue-a", "<script>alert(1)</script> queue A backs up")
	second := triggeredIncident(t, ns, "queue-b", "Queue B backs up")
	acked := triggeredIncident(t, ns, "queue-c", "Queue C backs up")
	// Incidents the link must not touch: the same bundle to another
	// responder, another bundle to the same one, and the bundle in an
	// episode before the current one.
	grace := triggeredIncident(t, ns, "for-grace", "Grace's incident")
	otherBundle := triggeredIncident(t, ns, "other-bundle", "Another bundle's incident")
	reopened := triggeredIncident(t, ns, "reopened", "Reopened incident")

	first = recordPages(t, first, bundledPage(first, "b1", "ada"))
	second = recordPages(t, second, bundledPage(second, "b1", "ada"))
	recordPages(t, acked, bundledPage(acked, "b1", "ada"))
	recordPages(t, grace, bundledPage(grace, "b1", "grace"))
	recordPages(t, otherBundle, bundledPage(otherBundle, "b2", "ada"))
	recordPages(t, reopened, bundledPage(reopened, "b1", "ada"))
	setState(t, reopened, klaxonv1alpha1.StateResolved)
	waitForEpisode(t, reopened, klaxonv1alpha1.StateResolved, 1)
	setState(t, reopened, klaxonv1alpha1.StateTriggered)
	reopened = waitForEpisode(t, reopened, klaxonv1alpha1.StateTriggered, 2)
	setState(t, acked, klaxonv1alpha1.StateAcknowledged)
	acked = waitForEpisode(t, acked, klaxonv1alpha1.StateAcknowledged, 1)

	link := signer.BundleURL(base, bundleClaims(ns, "b1", "ada"))
	untouched := []*klaxonv1alpha1.Incident{grace, otherBundle, reopened, acked}
	rvs := map[*klaxonv1alpha1.Incident]string{}
	for _, inc := range append([]*klaxonv1alpha1.Incident{first, second}, untouched...) {
		rvs[inc] = resourceVersion(t, inc)
	}

	// GET lists the bundle's incidents and a button, and changes nothing.
	code, body, h := fetch(t, http.MethodGet, link)
	if code != http.StatusOK {
		t.Fatalf("GET answered %d: %s", code, body)
	}
	for _, want := range []string{"3 incidents for ada", "&lt;script&gt;alert(1)&lt;/script&gt; queue A backs up", "Queue B backs up",
		"Queue C backs up", ns + "/queue-b, Triggered", ns + "/queue-c, Acknowledged", `<form method="post">`, "Acknowledge all as ada"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	for _, not := range []string{"<script>", "Grace's incident", "Another bundle", "Reopened incident"} {
		if strings.Contains(body, not) {
			t.Errorf("the page shows %q:\n%s", not, body)
		}
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if head, _, _ := fetch(t, http.MethodHead, link); head != http.StatusOK {
		t.Errorf("HEAD answered %d", head)
	}
	for inc, rv := range rvs {
		if got := resourceVersion(t, inc); got != rv {
			t.Fatalf("GET changed incident %s: resourceVersion %s, was %s", inc.Name, got, rv)
		}
	}

	// POST acknowledges each that waits, as ada, as its own link would.
	code, body, _ = submitForm(t, link)
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged 2 incidents as ada. 1 incident had been acknowledged or resolved already.") ||
		strings.Contains(body, "<form") {
		t.Fatalf("POST answered %d:\n%s", code, body)
	}
	for _, inc := range []*klaxonv1alpha1.Incident{first, second} {
		got := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
		if got.Status.AcknowledgedBy != "ada" || got.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
			t.Errorf("%s: acknowledgedBy %q, actor %q; want ada", inc.Name, got.Status.AcknowledgedBy, got.Annotations[klaxonv1alpha1.ActorAnnotation])
		}
		if last := got.Status.Timeline[len(got.Status.Timeline)-1]; last.Type != klaxonv1alpha1.TimelineAcknowledged || last.Actor != "ada" {
			t.Errorf("%s: last timeline entry %+v, want Acknowledged by ada", inc.Name, last)
		}
		rvs[inc] = resourceVersion(t, inc)
	}
	for _, inc := range untouched {
		if got := resourceVersion(t, inc); got != rvs[inc] {
			t.Errorf("the link changed incident %s: resourceVersion %s, was %s", inc.Name, got, rvs[inc])
		}
	}

	// A replay, by a browser or by a push app's action, changes nothing.
	code, body, _ = submitForm(t, link)
	if code != http.StatusOK || !strings.Contains(body, "All 3 incidents are acknowledged or resolved already.") || strings.Contains(body, "<form") {
		t.Errorf("replayed POST answered %d:\n%s", code, body)
	}
	code, body, h = fetch(t, http.MethodPost, link)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") ||
		strings.TrimSpace(body) != "All 3 incidents are acknowledged or resolved already. Nothing was changed." {
		t.Errorf("a bare POST answered %d (%s): %q", code, h.Get("Content-Type"), body)
	}
	for inc, rv := range rvs {
		if got := resourceVersion(t, inc); got != rv {
			t.Errorf("a replay changed incident %s: resourceVersion %s, was %s", inc.Name, got, rv)
		}
	}
}

// A push app's action (a POST with no form that does not ask for HTML)
// acknowledges all and is answered with one line.
func TestAckAllLinkBareAcknowledge(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base := ackReceiver(t, signer)
	inc := triggeredIncident(t, ns, "disk-full", "Disk full")
	recordPages(t, inc, bundledPage(inc, "b1", "ada"))
	code, body, h := fetch(t, http.MethodPost, signer.BundleURL(base, bundleClaims(ns, "b1", "ada")))
	if code != http.StatusOK || strings.TrimSpace(body) != "Acknowledged 1 incident as ada." || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("a bare POST answered %d: %q", code, body)
	}
	waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
}

// Tokens that are not a bundle's, hostile or not, are refused before any
// incident is read, as /ack refuses them; a genuine bundle no incident
// records yet is answered "not found yet".
func TestAckAllLinkRefusesHostileTokens(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	// Failed links are limited per client: each check gets a receiver of
	// its own.
	base := func() string { return ackReceiver(t, signer) }
	const at = "http://receiver"
	path := func(url string) string { return strings.TrimPrefix(url, at) }

	inc := triggeredIncident(t, ns, "live", "Checkout is down")
	inc = recordPages(t, inc, bundledPage(inc, "b1", "ada"))
	rv := resourceVersion(t, inc)
	ackToken := signer.Sign(claimsFor(inc, "ada"))
	bundleToken := signer.SignBundle(bundleClaims(ns, "b1", "ada"))
	expired := bundleClaims(ns, "b1", "ada")
	expired.Expires = time.Now().Add(-time.Minute)
	other, err := acklink.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		url  string
		code int
		says string
	}{
		"an acknowledge link's token":      {at + "/ack-all/" + ackToken, http.StatusForbidden, "not valid"},
		"a bundle's token at /ack":         {at + "/ack/" + bundleToken, http.StatusForbidden, "not valid"},
		"other key":                        {other.BundleURL(at, bundleClaims(ns, "b1", "ada")), http.StatusForbidden, "not valid"},
		"expired":                          {signer.BundleURL(at, expired), http.StatusGone, "expired"},
		"garbage":                          {at + "/ack-all/not-a-token", http.StatusBadRequest, "malformed"},
		"cut short":                        {at + "/ack-all/" + bundleToken[:len(bundleToken)-10], http.StatusBadRequest, "malformed"},
		"oversized":                        {at + "/ack-all/" + strings.Repeat("A", 4000) + ".B", http.StatusBadRequest, "malformed"},
		"percent-encoded control bytes":    {at + "/ack-all/%00%0d%0a" + bundleToken, http.StatusBadRequest, "malformed"},
		"a bundle nobody records yet":      {signer.BundleURL(at, bundleClaims(ns, "b-later", "ada")), http.StatusNotFound, "Try again in a minute"},
		"the bundle, for someone else":     {signer.BundleURL(at, bundleClaims(ns, "b1", "grace")), http.StatusNotFound, "Try again in a minute"},
		"the bundle, in another namespace": {signer.BundleURL(at, bundleClaims("default", "b1", "ada")), http.StatusNotFound, "Try again in a minute"},
	} {
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
	if code, _, h := fetch(t, http.MethodPut, base()+path(signer.BundleURL(at, bundleClaims(ns, "b1", "ada")))); code != http.StatusMethodNotAllowed || h.Get("Allow") == "" {
		t.Errorf("PUT answered %d, Allow %q", code, h.Get("Allow"))
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("a refused link changed the incident: resourceVersion %s, was %s", got, rv)
	}
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil || got.Status.Phase != klaxonv1alpha1.StateTriggered {
		t.Errorf("incident %v, %v; want it Triggered still", got.Status.Phase, err)
	}
}

// inParallel runs do(i) for i in [0, n), 16 at a time.
func inParallel(n int, do func(i int)) {
	slots := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			do(i)
		})
	}
	wg.Wait()
}

// stormBundle creates n incidents and records on each, as the operator
// would, its first episode and that bundle delivered its page to
// responder; the page of storm-i was due i seconds before storm-0's, so
// the bundle's order (by page) is the reverse of the names'. The operator
// of the suite accepts a few incidents a second, a storm's too many to
// wait for: it finds the status written and keeps it (lifecycle.Repair).
// It waits until the cache shows all, and deletes them when the test ends.
func stormBundle(t *testing.T, ns, bundle, responder string, n int) {
	t.Helper()
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprintf("storm-%03d", i) }
	t.Cleanup(func() {
		// So the operator's queue drains before the next test.
		if err := k8s.DeleteAllOf(ctx, &klaxonv1alpha1.Incident{}, client.InNamespace(ns)); err != nil {
			t.Error(err)
		}
		eventually(t, "the cache to drop the storm", func(ctx context.Context) (bool, error) {
			var list klaxonv1alpha1.IncidentList
			err := mgr.GetClient().List(ctx, &list, client.InNamespace(ns))
			return len(list.Items) == 0, err
		})
	})
	first := time.Now().Add(-time.Hour)
	inParallel(n, func(i int) {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Name: name(i), Namespace: ns},
			Spec: klaxonv1alpha1.IncidentSpec{Title: "Storm incident " + name(i), Severity: klaxonv1alpha1.SeverityCritical,
				Service: "checkout", Impact: "Payments fail"},
		}
		if err := k8s.Create(ctx, inc); err != nil {
			t.Error(err)
			return
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc); err != nil {
				return err
			}
			if inc.Status.Phase == "" {
				at := metav1.NewTime(first)
				inc.Status.Phase, inc.Status.Episode, inc.Status.TriggeredAt = klaxonv1alpha1.StateTriggered, 1, &at
			}
			page := sentPage(inc, responder, "+4915112345678", "ref-"+bundle, 0, first)
			page.Bundle, page.DueAt = bundle, metav1.NewTime(first.Add(-time.Duration(i)*time.Second))
			inc.Status.Notifications = append(inc.Status.Notifications, page)
			return k8s.Status().Update(ctx, inc)
		})
		if err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	eventually(t, "the cache to show the storm's bundle", func(ctx context.Context) (bool, error) {
		var list klaxonv1alpha1.IncidentList
		if err := mgr.GetClient().List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		found := 0
		for i := range list.Items {
			if inc := &list.Items[i]; hasPage(inc, "ref-"+bundle) && inc.Status.Phase == klaxonv1alpha1.StateTriggered {
				found++
			}
		}
		return found == n, nil
	})
}

// receiverClient is a receiver's client as the operator makes it: reading
// through the operator's cache, with a rate limit of its own at the
// receiver's default (cmd/main.go), not the suite's shared one.
func receiverClient(t *testing.T) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.OperatorConfig)
	cfg.QPS, cfg.Burst = 300, 600
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		Cache: &client.CacheOptions{Reader: mgr.GetCache()}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var pressAgain = regexp.MustCompile(`Acknowledged [0-9,]+ of [0-9,]+ incidents as ada; press again to acknowledge the rest.`)

// A storm's bundle names more incidents than a page lists: the page lists
// the first 500 in the order they were paged and says how many more, and
// pressing the button acknowledges them all, in as many presses as the
// time budget of one needs, each answered 503 until none remains.
func TestAckAllLinkStormBundle(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	keys := &acklink.Keyring{}
	keys.Set(signer)
	// A short API timeout gives a press a budget of 1.5 s, which a loaded
	// machine's API server may not acknowledge 520 incidents in.
	base := newReceiver(t, receiverClient(t), func(o *receiver.Options) { o.AckKeys, o.APITimeout = keys, 500*time.Millisecond }).URL
	const n = 520
	stormBundle(t, ns, "storm", "ada", n)
	link := signer.BundleURL(base, bundleClaims(ns, "storm", "ada"))

	code, body, _ := fetch(t, http.MethodGet, link)
	if code != http.StatusOK {
		t.Fatalf("GET answered %d: %s", code, body)
	}
	// The last paged (storm-519) is listed first; the 20 paged first
	// (storm-019 to storm-000) are not listed.
	if rows := strings.Count(body, "<li>"); rows != 501 {
		t.Errorf("the page lists %d rows, want 500 incidents and one for the rest", rows)
	}
	for _, want := range []string{"520 incidents for ada", "<li>and 20 more</li>", ns + "/storm-519, Triggered", ns + "/storm-020, Triggered", "Acknowledge all as ada"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Index(body, "storm-519") > strings.Index(body, "storm-518") {
		t.Error("the page does not list the incidents in the order they were paged")
	}
	if strings.Contains(body, ns+"/storm-019,") {
		t.Error("the page lists storm-019, past the first 500")
	}

	// Each press acknowledges what its budget allows and is answered 503
	// with Retry-After and the button while some remain.
	done := false
	for press := 1; press <= 12 && !done; press++ {
		answer, page, h := submitForm(t, link)
		switch answer {
		case http.StatusOK:
			done = true
			if press == 1 && !strings.Contains(page, "Acknowledged 520 incidents as ada.") {
				t.Errorf("press %d: the page lacks the outcome:\n%s", press, page)
			}
			if press > 1 && !strings.Contains(page, "incidents had been acknowledged or resolved already.") {
				t.Errorf("press %d: the page does not count those acknowledged before:\n%s", press, page)
			}
			if strings.Contains(page, "<form") {
				t.Errorf("press %d: a button remains after all were acknowledged", press)
			}
		case http.StatusServiceUnavailable:
			rest := pressAgain.FindString(page)
			failed := strings.Contains(page, "could not be acknowledged; try again in a moment.")
			if h.Get("Retry-After") == "" || rest == "" && !failed || !strings.Contains(page, "<form") {
				t.Fatalf("press %d answered 503 without Retry-After, what remains or the button:\n%s", press, page)
			}
			t.Logf("press %d: %s", press, rest)
		default:
			t.Fatalf("press %d answered %d:\n%s", press, answer, page)
		}
	}
	if !done {
		t.Fatal("twelve presses did not acknowledge the bundle")
	}
	// Each is acknowledged as ada; the operator records it in status a
	// few a second, so its spec tells.
	var list klaxonv1alpha1.IncidentList
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, inc := range list.Items {
		if inc.Spec.State == klaxonv1alpha1.StateAcknowledged && inc.Annotations[klaxonv1alpha1.ActorAnnotation] == "ada" {
			acked++
		}
	}
	if acked != n {
		t.Fatalf("%d of %d incidents are acknowledged by ada", acked, n)
	}
	waitForCache(t, ns, "storm-000", "the cache to show storm-000 acknowledged", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Spec.State == klaxonv1alpha1.StateAcknowledged
	})
	code, body, _ = submitForm(t, link)
	if code != http.StatusOK || !strings.Contains(body, "All 520 incidents are acknowledged or resolved already.") {
		t.Errorf("a press after all were acknowledged answered %d:\n%s", code, body)
	}
}

// laggingCache is a receiver's client whose incident lists are those of a
// moment ago, as a cache that lags behind a storm's deletions and reopens
// shows them; reads and writes of one incident are the cache's and the API
// server's.
type laggingCache struct {
	client.Client
	incidents []klaxonv1alpha1.Incident
}

func (l *laggingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if incs, ok := list.(*klaxonv1alpha1.IncidentList); ok {
		for i := range l.incidents {
			incs.Items = append(incs.Items, *l.incidents[i].DeepCopy())
		}
		return nil
	}
	return l.Client.List(ctx, list, opts...)
}

// A bundle whose incidents are gone or reopened counts as one stale link
// against the client's address, not one per incident: the press
// acknowledges those that wait, and the client keeps its other links.
func TestAckAllLinkStaleIncidentsCountOnce(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	signer := ackKey(t)
	var bundled []*klaxonv1alpha1.Incident
	for i := range 15 {
		inc := triggeredIncident(t, ns, fmt.Sprintf("bundled-%02d", i), "Bundled incident")
		bundled = append(bundled, recordPages(t, inc, bundledPage(inc, "b1", "ada")))
	}
	other := triggeredIncident(t, ns, "other", "Another bundle's incident")
	recordPages(t, other, bundledPage(other, "b2", "ada"))
	lagging := &laggingCache{Client: mgr.GetClient()}
	var list klaxonv1alpha1.IncidentList
	if err := mgr.GetClient().List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	lagging.incidents = list.Items
	keys := &acklink.Keyring{}
	keys.Set(signer)
	base := newReceiver(t, lagging, func(o *receiver.Options) { o.AckKeys = keys }).URL

	// More are gone or reopened than the client may send stale links.
	live, reopened, deleted := bundled[0], bundled[1:3], bundled[3:]
	for _, inc := range reopened {
		setState(t, inc, klaxonv1alpha1.StateResolved)
		waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
		setState(t, inc, klaxonv1alpha1.StateTriggered)
		waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 2)
	}
	for _, inc := range deleted {
		if err := k8s.Delete(ctx, inc); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the cache to drop the deleted incidents", func(ctx context.Context) (bool, error) {
		for _, inc := range deleted {
			if err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{}); !apierrors.IsNotFound(err) {
				return false, client.IgnoreNotFound(err)
			}
		}
		return true, nil
	})

	code, body, _ := submitForm(t, signer.BundleURL(base, bundleClaims(ns, "b1", "ada")))
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged 1 incident as ada. 14 incidents could not be acknowledged; see below.") ||
		!strings.Contains(body, "This incident no longer exists.") || !strings.Contains(body, "earlier episode") {
		t.Fatalf("the press answered %d:\n%s", code, body)
	}
	// The press counted one failure of the ten the client may have (one
	// a second comes back): nine more are answered, the tenth is refused.
	forged, err := acklink.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	bad := forged.BundleURL(base, bundleClaims(ns, "b1", "ada"))
	for i := range 9 {
		if got, page, _ := fetch(t, http.MethodGet, bad); got != http.StatusForbidden {
			t.Fatalf("invalid link %d after the press answered %d, want 403:\n%s", i+1, got, page)
		}
	}
	if got, _, _ := fetch(t, http.MethodGet, bad); got != http.StatusTooManyRequests {
		t.Errorf("the tenth failure answered %d, want 429", got)
	}
	waitForEpisode(t, live, klaxonv1alpha1.StateAcknowledged, 1)

	// A link the cache confirms is answered still: another bundle's.
	code, body, _ = submitForm(t, signer.BundleURL(base, bundleClaims(ns, "b2", "ada")))
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged 1 incident as ada.") {
		t.Fatalf("the other bundle's link answered %d:\n%s", code, body)
	}
	waitForEpisode(t, other, klaxonv1alpha1.StateAcknowledged, 1)
}
