package receiver_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// updateScreenshot copies the screenshot TestStatusPageInChromium takes
// into docs/status-page.png, the picture docs/status-page.md shows:
//
//	KUBEBUILDER_ASSETS=$(hack/control-plane.sh) go test ./internal/receiver/ \
//	    -run TestStatusPageInChromium -count=1 -update-screenshot
var updateScreenshot = flag.Bool("update-screenshot", false, "copy the status page screenshot to docs/status-page.png")

// sampleIncident describes an incident for a status page test.
type sampleIncident struct {
	name, title, service, impact string
	severity                     klaxonv1alpha1.Severity
	state                        klaxonv1alpha1.IncidentState
	labels                       map[string]string
	// update is a stakeholder update given updateAgo ago.
	update    string
	updateAgo time.Duration
	// triggeredAgo and resolvedAgo, when set, replace the times the
	// operator recorded, so the page shows durations and the 7-day window
	// can be crossed.
	triggeredAgo, resolvedAgo time.Duration
}

// createIncident creates the incident, waits until the operator accepted
// its state, sets its status times as an admin would, and waits until the
// cache the receiver reads has that.
func createIncident(t *testing.T, ns string, s sampleIncident) *klaxonv1alpha1.Incident {
	t.Helper()
	ctx := context.Background()
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns, Labels: s.labels},
		Spec: klaxonv1alpha1.IncidentSpec{Title: s.title, Severity: s.severity, Service: s.service, Impact: s.impact,
			State: s.state, Commander: "alice"},
	}
	if s.update != "" {
		inc.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{{Time: metav1.NewTime(time.Now().Add(-s.updateAgo).Truncate(time.Second)), Author: "bob", Message: s.update}}
	}
	if err := k8s.Create(ctx, inc); err != nil {
		t.Fatal(err)
	}
	state := s.state
	if state == "" {
		state = klaxonv1alpha1.StateTriggered
	}
	got := waitForEpisode(t, inc, state, 1)
	if s.triggeredAgo == 0 && s.resolvedAgo == 0 {
		return got
	}
	status := map[string]any{}
	if s.triggeredAgo != 0 {
		status["triggeredAt"] = time.Now().Add(-s.triggeredAgo).UTC().Format(time.RFC3339)
	}
	if s.resolvedAgo != 0 {
		status["resolvedAt"] = time.Now().Add(-s.resolvedAgo).UTC().Format(time.RFC3339)
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	if err := k8s.Status().Patch(ctx, got, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to have the status times of "+s.name, func(ctx context.Context) (bool, error) {
		cached := &klaxonv1alpha1.Incident{}
		if err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), cached); err != nil {
			return false, err
		}
		ok := func(want time.Duration, t *metav1.Time) bool {
			return want == 0 || (t != nil && time.Since(t.Time) > want-time.Minute)
		}
		return ok(s.triggeredAgo, cached.Status.TriggeredAt) && ok(s.resolvedAgo, cached.Status.ResolvedAt), nil
	})
	return got
}

// createStatusPage creates a page and waits until the receiver's cache has
// it.
func createStatusPage(t *testing.T, ns, name string, spec klaxonv1alpha1.StatusPageSpec) {
	t.Helper()
	page := &klaxonv1alpha1.StatusPage{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := k8s.Create(context.Background(), page); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to have status page "+name, func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(page), &klaxonv1alpha1.StatusPage{}) == nil, nil
	})
}

// statusBody fetches a page that must answer 200.
func statusBody(t *testing.T, url string) string {
	t.Helper()
	code, body, _ := fetch(t, http.MethodGet, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s answered %d:\n%s", url, code, body)
	}
	return body
}

// assertOrder checks that each of want appears in body, in that order.
func assertOrder(t *testing.T, body string, want ...string) {
	t.Helper()
	last := -1
	for _, w := range want {
		i := strings.Index(body, w)
		switch {
		case i < 0:
			t.Errorf("the page lacks %q:\n%s", w, body)
			return
		case i < last:
			t.Errorf("%q comes before what precedes it in %q:\n%s", w, want, body)
		}
		last = i
	}
}

func TestStatusPageSelection(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	for _, s := range []sampleIncident{
		{name: "checkout-payments", title: "Checkout of team payments", service: "checkout", labels: map[string]string{"owner": "payments"}},
		{name: "checkout-search", title: "Checkout of team search", service: "checkout", labels: map[string]string{"owner": "search"}},
		{name: "search-payments", title: "Search of team payments", service: "search", labels: map[string]string{"owner": "payments"}},
	} {
		createIncident(t, ns, s)
	}
	payments := &metav1.LabelSelector{MatchLabels: map[string]string{"owner": "payments"}}
	cases := map[string]struct {
		spec klaxonv1alpha1.StatusPageSpec
		want []string
	}{
		"services": {klaxonv1alpha1.StatusPageSpec{Services: []klaxonv1alpha1.ServiceName{"checkout"}},
			[]string{"Checkout of team payments", "Checkout of team search"}},
		"selector": {klaxonv1alpha1.StatusPageSpec{Selector: payments},
			[]string{"Checkout of team payments", "Search of team payments"}},
		"both": {klaxonv1alpha1.StatusPageSpec{Services: []klaxonv1alpha1.ServiceName{"checkout"}, Selector: payments},
			[]string{"Checkout of team payments"}},
	}
	all := []string{"Checkout of team payments", "Checkout of team search", "Search of team payments"}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.spec.Title = "Page by " + name
			createStatusPage(t, ns, name, tc.spec)
			body := statusBody(t, base+"/status/"+ns+"/"+name)
			if !strings.Contains(body, "<h1>Page by "+name+"</h1>") {
				t.Errorf("the page lacks its title:\n%s", body)
			}
			for _, title := range all {
				shown := strings.Contains(body, title)
				if want := contains(tc.want, title); shown != want {
					t.Errorf("%q shown: %v, want %v", title, shown, want)
				}
			}
			for _, never := range []string{"alice", "bob", "owner"} {
				if strings.Contains(body, never) {
					t.Errorf("the page names %q, which is not for stakeholders", never)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Open incidents come first (the most severe first), then those resolved in
// the last 7 days (the most recent first); older ones are not shown. The
// feed lists the same, in the same order.
func TestStatusPageOrderAndWindow(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	day := 24 * time.Hour
	for _, s := range []sampleIncident{
		{name: "minor-open", title: "Minor open incident", service: "checkout", severity: klaxonv1alpha1.SeverityLow, triggeredAgo: 3 * time.Hour},
		{name: "resolved-yesterday", title: "Resolved yesterday", service: "checkout", severity: klaxonv1alpha1.SeverityCritical,
			state: klaxonv1alpha1.StateResolved, triggeredAgo: day + 2*time.Hour, resolvedAgo: day},
		{name: "resolved-last-week", title: "Resolved eight days ago", service: "checkout", severity: klaxonv1alpha1.SeverityHigh,
			state: klaxonv1alpha1.StateResolved, triggeredAgo: 9 * day, resolvedAgo: 8 * day},
		{name: "closed-an-hour-ago", title: "Closed an hour ago", service: "checkout", severity: klaxonv1alpha1.SeverityModerate,
			state: klaxonv1alpha1.StateResolved, triggeredAgo: 2 * time.Hour, resolvedAgo: time.Hour},
		{name: "major-open", title: "Major open incident", service: "checkout", severity: klaxonv1alpha1.SeverityCritical,
			state: klaxonv1alpha1.StateMitigated, triggeredAgo: 30 * time.Minute},
	} {
		createIncident(t, ns, s)
	}
	createStatusPage(t, ns, "checkout", klaxonv1alpha1.StatusPageSpec{Title: "Checkout status", Services: []klaxonv1alpha1.ServiceName{"checkout"}})

	body := statusBody(t, base+"/status/"+ns+"/checkout")
	assertOrder(t, body, "Open incidents", "Major open incident", "open for 30m", "Minor open incident", "open for 3h 0m",
		"Resolved in the last 7 days", "Closed an hour ago", "after 1h 0m", "Resolved yesterday", "after 2h 0m")
	if strings.Contains(body, "Resolved eight days ago") {
		t.Errorf("an incident resolved 8 days ago is shown:\n%s", body)
	}

	feed := parseFeed(t, base+"/status/"+ns+"/checkout/feed.atom")
	var titles []string
	for _, e := range feed.Entries {
		titles = append(titles, e.Title)
	}
	want := []string{"[Mitigated] SEV1: Major open incident", "[Investigating] SEV4: Minor open incident",
		"[Resolved] SEV3: Closed an hour ago", "[Resolved] SEV1: Resolved yesterday"}
	if strings.Join(titles, "\n") != strings.Join(want, "\n") {
		t.Errorf("feed entries\n  %s\nwant\n  %s", strings.Join(titles, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestStatusPageEscapesAndHeaders(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	createIncident(t, ns, sampleIncident{name: "xss", title: "<script>alert(1)</script> <b>checkout</b> down", service: "checkout",
		impact: `Payments "fail" & <i>retry</i>`, update: "<img src=x onerror=alert(2)> rolling back", updateAgo: time.Minute})
	createStatusPage(t, ns, "shop", klaxonv1alpha1.StatusPageSpec{Title: "Shop <status>", Services: []klaxonv1alpha1.ServiceName{"checkout"}})
	url := base + "/status/" + ns + "/shop"

	code, body, h := fetch(t, http.MethodGet, url)
	if code != http.StatusOK {
		t.Fatalf("GET answered %d:\n%s", code, body)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;checkout&lt;/b&gt; down", "Shop &lt;status&gt;",
		"Payments &#34;fail&#34; &amp; &lt;i&gt;retry&lt;/i&gt;", "&lt;img src=x onerror=alert(2)&gt; rolling back",
		`<meta name="viewport"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	for _, never := range []string{"<script", "<b>", "<i>", "<img"} {
		if strings.Contains(body, never) {
			t.Errorf("the page contains %q unescaped:\n%s", never, body)
		}
	}
	for k, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=30",
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q should allow no script", csp)
	}

	code, body, h = fetch(t, http.MethodHead, url)
	if code != http.StatusOK || body != "" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD answered %d, %q, Content-Type %q", code, body, h.Get("Content-Type"))
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		code, _, h = fetch(t, method, url)
		if code != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s answered %d, Allow %q; want 405, GET, HEAD", method, code, h.Get("Allow"))
		}
	}
	for _, missing := range []string{"/status/" + ns + "/nope", "/status/" + ns + "/nope/feed.atom", "/status/no-such-namespace/shop"} {
		code, body, h = fetch(t, http.MethodGet, base+missing)
		if code != http.StatusNotFound || !strings.Contains(body, "Status page not found") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s answered %d:\n%s", missing, code, body)
		}
	}
}

// atomFeed is the part of an Atom feed the tests check.
type atomFeed struct {
	XMLName xml.Name
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Updated string `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Author  string `xml:"author>name"`
	Entries []struct {
		XMLName xml.Name
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Summary string `xml:"summary"`
	} `xml:"entry"`
}

func parseFeed(t *testing.T, url string) atomFeed {
	t.Helper()
	code, body, h := fetch(t, http.MethodGet, url)
	if code != http.StatusOK || h.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("GET %s answered %d, Content-Type %q:\n%s", url, code, h.Get("Content-Type"), body)
	}
	var f atomFeed
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("the feed is not XML: %v\n%s", err, body)
	}
	return f
}

func TestStatusPageAtomFeed(t *testing.T) {
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	inc := createIncident(t, ns, sampleIncident{name: "gateway", title: "Payment gateway <times> out", service: "payment-gateway",
		severity: klaxonv1alpha1.SeverityCritical, impact: "Card payments fail", update: "Rolling back the gateway.", updateAgo: 2 * time.Minute})
	createStatusPage(t, ns, "payments", klaxonv1alpha1.StatusPageSpec{Title: "Payments status", Services: []klaxonv1alpha1.ServiceName{"payment-gateway"}})
	page := &klaxonv1alpha1.StatusPage{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "payments"}, page); err != nil {
		t.Fatal(err)
	}

	f := parseFeed(t, base+"/status/"+ns+"/payments/feed.atom")
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" || f.XMLName.Local != "feed" {
		t.Errorf("root element %+v, want feed in the Atom namespace", f.XMLName)
	}
	if f.ID != "urn:uuid:"+string(page.UID) || f.Title != "Payments status" || f.Author == "" {
		t.Errorf("feed id %q, title %q, author %q", f.ID, f.Title, f.Author)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("feed updated %q: %v", f.Updated, err)
	}
	rels := map[string]string{}
	for _, l := range f.Links {
		rels[l.Rel] = l.Href
	}
	if rels["self"] != "/status/"+ns+"/payments/feed.atom" || rels["alternate"] != "/status/"+ns+"/payments" {
		t.Errorf("links %+v", f.Links)
	}
	if len(f.Entries) != 1 {
		t.Fatalf("%d entries, want 1", len(f.Entries))
	}
	e := f.Entries[0]
	if e.XMLName.Space != "http://www.w3.org/2005/Atom" || e.ID != "urn:uuid:"+string(inc.UID) ||
		e.Title != "[Investigating] SEV1: Payment gateway <times> out" {
		t.Errorf("entry %+v", e)
	}
	if !strings.Contains(e.Summary, "Rolling back the gateway.") || !strings.Contains(e.Summary, "Card payments fail") || strings.Contains(e.Summary, "bob") {
		t.Errorf("summary %q should carry the impact and the update, and no author", e.Summary)
	}
	if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
		t.Errorf("entry updated %q: %v", e.Updated, err)
	}
}

// A real browser shows the page: headless Chromium renders it (no script
// runs; the DOM it dumps is the page's text) and takes a phone-sized
// screenshot. With -update-screenshot the screenshot becomes
// docs/status-page.png.
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH: install it (apt-get install chromium) to check the status page in a real browser")
	}
	ns := newNamespace(t)
	base := newReceiver(t, nil).URL
	for _, s := range []sampleIncident{
		{name: "payment-gateway-timeouts", title: "Card payments time out at checkout", service: "payment-gateway",
			severity: klaxonv1alpha1.SeverityCritical, state: klaxonv1alpha1.StateAcknowledged, triggeredAgo: 47 * time.Minute,
			impact:    "About 30% of card payments fail.",
			update:    "Traffic is switched to our backup card provider. Next update in 30 minutes.",
			updateAgo: 6 * time.Minute},
		{name: "checkout-latency", title: "Checkout is slow in the EU", service: "checkout",
			severity: klaxonv1alpha1.SeverityHigh, state: klaxonv1alpha1.StateMitigated, triggeredAgo: 2*time.Hour + 10*time.Minute,
			impact: "Orders take up to 10 seconds in the EU.",
			update: "A fix is deployed; we are monitoring.", updateAgo: 15 * time.Minute},
		{name: "refund-mails", title: "Refund confirmations were delayed", service: "payment-gateway",
			severity: klaxonv1alpha1.SeverityModerate, state: klaxonv1alpha1.StateResolved,
			triggeredAgo: 27 * time.Hour, resolvedAgo: 25 * time.Hour,
			impact: "Refund e-mails arrived up to two hours late.",
			update: "All delayed e-mails were sent.", updateAgo: 25 * time.Hour},
	} {
		createIncident(t, ns, s)
	}
	createStatusPage(t, ns, "payments-status", klaxonv1alpha1.StatusPageSpec{Title: "Payments status",
		Description: "Card payments, checkout and refunds.",
		Services:    []klaxonv1alpha1.ServiceName{"checkout", "payment-gateway"}})
	url := base + "/status/" + ns + "/payments-status"

	dom := runChromium(t, chromium, "--dump-dom", url)
	// The visible text is in the body; the head's style names severities too.
	i := strings.Index(dom, "<body")
	if i < 0 {
		t.Fatalf("chromium dumped no body:\n%s", dom)
	}
	body := dom[i:]
	assertOrder(t, body, "Payments status", "Open incidents", "SEV1", "Investigating", "Card payments time out at checkout",
		"switched to our backup card provider", "open for 47m", "SEV2", "Mitigated", "Checkout is slow in the EU", "open for 2h 10m",
		"Resolved in the last 7 days", "Refund confirmations were delayed", "after 2h 0m", "Atom feed")

	png := filepath.Join(t.TempDir(), "status.png")
	runChromium(t, chromium, "--screenshot="+png, "--window-size=412,915", "--hide-scrollbars", url)
	data, err := os.ReadFile(png)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	if len(data) < 1000 || string(data[1:4]) != "PNG" {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(data))
	}
	if *updateScreenshot {
		dst := filepath.Join(localcluster.RepoRoot(), "docs", "status-page.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", dst, len(data))
	}
}

// runChromium runs headless Chromium with args, in a profile of its own,
// and returns what it printed on stdout.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("chromium %s did not finish within a minute", strings.Join(args, " "))
		}
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
