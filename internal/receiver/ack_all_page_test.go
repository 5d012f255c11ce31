package receiver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
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
