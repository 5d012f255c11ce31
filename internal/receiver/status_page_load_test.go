package receiver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// fetchVia requests url with the X-Forwarded-For header a proxy would
// send (none when empty) and returns the status, the body and the headers.
func fetchVia(t *testing.T, method, url, forwardedFor string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func trusting(cidrs ...string) func(*receiver.Options) {
	return func(o *receiver.Options) {
		for _, c := range cidrs {
			o.TrustedProxies = append(o.TrustedProxies, netip.MustParsePrefix(c))
		}
	}
}

// Behind an ingress every reader has the ingress's address: the page is
// rendered once for all of them and served from the cache, never limited.
func TestStatusPageCrowdBehindOneProxy(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	createIncident(t, ns, sampleIncident{name: "down", title: "Checkout is down", service: "checkout"})
	createStatusPage(t, ns, "shop", klaxonv1alpha1.StatusPageSpec{Title: "Shop", Services: []klaxonv1alpha1.ServiceName{"checkout"}})
	const reads = 300
	ok := 0
	codes := map[int]int{}
	for i := range reads {
		url := base + "/status/" + ns + "/shop"
		if i%2 == 1 {
			url += "/feed.atom"
		}
		code, body, _ := fetch(t, http.MethodGet, url)
		codes[code]++
		if code == http.StatusOK && strings.Contains(body, "Checkout is down") {
			ok++
		}
	}
	t.Logf("%d of %d status page reads from one address answered 200", ok, reads)
	if ok != reads {
		t.Errorf("%d status page reads from one address answered %v, want all 200", reads, codes)
	}
}

// A change to the page shows once the cached copy is older than
// Options.StatusCacheTTL.
func TestStatusPageCacheExpires(t *testing.T) {
	ns := newNamespace(t)
	const ttl = 2 * time.Second
	base := newReceiver(t, nil, func(o *receiver.Options) { o.StatusCacheTTL = ttl }).URL
	createStatusPage(t, ns, "shop", klaxonv1alpha1.StatusPageSpec{Title: "Shop before", Services: []klaxonv1alpha1.ServiceName{"checkout"}})
	url := base + "/status/" + ns + "/shop"
	rendered := time.Now()
	if body := statusBody(t, url); !strings.Contains(body, "Shop before") {
		t.Fatalf("the page lacks its title:\n%s", body)
	}
	page := &klaxonv1alpha1.StatusPage{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, page); err != nil {
		t.Fatal(err)
	}
	// A patch, since the operator writes the page's status meanwhile.
	before := page.DeepCopy()
	page.Spec.Title = "Shop after"
	if err := k8s.Patch(context.Background(), page, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to have the new title", func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.StatusPage{}
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(page), got)
		return err == nil && got.Spec.Title == "Shop after", err
	})
	body := statusBody(t, url)
	if time.Since(rendered) < ttl && !strings.Contains(body, "Shop before") {
		t.Errorf("within the TTL the page was rendered again:\n%s", body)
	}
	eventually(t, "the page to show the new title", func(context.Context) (bool, error) {
		return strings.Contains(statusBody(t, url), "Shop after"), nil
	})
	if time.Since(rendered) < ttl {
		t.Errorf("the new title showed %s after the first render, before the TTL", time.Since(rendered))
	}
}

// Renders are capped across all clients: past the cap a page not in the
// cache is answered 503 with Retry-After.
func TestStatusPageRendersAreCapped(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil, trusting("127.0.0.0/8")).URL
	capped := false
	for i := range 200 {
		// Each request from an address of its own, for a page of its own.
		code, body, h := fetchVia(t, http.MethodGet, fmt.Sprintf("%s/status/%s/page-%d", base, ns, i), fmt.Sprintf("198.51.100.%d", i))
		if code == http.StatusServiceUnavailable {
			if h.Get("Retry-After") == "" || !strings.Contains(body, "busy") {
				t.Errorf("503 without Retry-After or a reason: %q", body)
			}
			capped = true
			break
		}
		if code != http.StatusNotFound {
			t.Fatalf("GET of a page that does not exist answered %d:\n%s", code, body)
		}
	}
	if !capped {
		t.Error("200 renders from 200 addresses were not capped")
	}
}

// X-Forwarded-For names the client only when the direct peer is a trusted
// proxy, and then its right-most untrusted entry: an entry the client
// wrote itself, left of those the proxies appended, changes nothing.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	signer := ackKey(t)
	cases := map[string]struct {
		trusted   []string
		forwarded func(i int) string
		limited   bool
	}{
		"untrusted peer": {[]string{"10.0.0.0/8"}, func(i int) string { return fmt.Sprintf("203.0.113.%d", i) }, true},
		"trusted peer":   {[]string{"127.0.0.0/8"}, func(i int) string { return fmt.Sprintf("203.0.113.%d", i) }, false},
		"spoofed left-most entry": {[]string{"127.0.0.0/8", "10.0.0.0/8"},
			func(i int) string { return fmt.Sprintf("192.0.2.%d, 203.0.113.7, 10.1.2.3", i) }, true},
		"no proxy trusted": {nil, func(i int) string { return fmt.Sprintf("203.0.113.%d", i) }, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			keys := &acklinkKeyring{signer}
			base := newReceiver(t, nil, trusting(tc.trusted...), keys.set).URL
			limited := false
			for i := range 40 {
				if code, _, _ := fetchVia(t, http.MethodGet, base+"/ack/garbage", tc.forwarded(i)); code == http.StatusTooManyRequests {
					limited = true
					break
				}
			}
			if limited != tc.limited {
				t.Errorf("40 failed links: limited %t, want %t", limited, tc.limited)
			}
		})
	}
}
