package statuspage_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/statuspage"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

// incident builds an incident in phase, triggered at triggered (relative to
// now) and, for Resolved and Closed, resolved at resolved.
func incident(name string, sev klaxonv1alpha1.Severity, phase klaxonv1alpha1.IncidentState, triggered, resolved time.Duration) klaxonv1alpha1.Incident {
	inc := klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID(name + "-uid"),
			Labels: map[string]string{"team": "payments"}},
		Spec: klaxonv1alpha1.IncidentSpec{Title: name, Severity: sev, Service: "checkout", Commander: "alice"},
		Status: klaxonv1alpha1.IncidentStatus{Phase: phase, TriggeredAt: at(triggered), Commander: "alice",
			AcknowledgedBy: "bob"},
	}
	if phase == klaxonv1alpha1.StateResolved || phase == klaxonv1alpha1.StateClosed {
		inc.Status.ResolvedAt = at(resolved)
	}
	return inc
}

func page(services []klaxonv1alpha1.ServiceName, sel *metav1.LabelSelector) *klaxonv1alpha1.StatusPage {
	return &klaxonv1alpha1.StatusPage{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: "shop", UID: "page-uid",
			CreationTimestamp: metav1.NewTime(now.Add(-30 * 24 * time.Hour))},
		Spec: klaxonv1alpha1.StatusPageSpec{Title: "Payments status", Services: services, Selector: sel},
	}
}

func names(items []statuspage.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

func TestSelect(t *testing.T) {
	withService := func(name, service string, labels map[string]string) klaxonv1alpha1.Incident {
		inc := incident(name, klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.StateTriggered, -time.Hour, 0)
		inc.Spec.Service, inc.Labels = service, labels
		return inc
	}
	incidents := []klaxonv1alpha1.Incident{
		withService("checkout-payments", "checkout", map[string]string{"team": "payments"}),
		withService("checkout-search", "checkout", map[string]string{"team": "search"}),
		withService("search-payments", "search", map[string]string{"team": "payments"}),
		withService("nothing", "", nil),
	}
	payments := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}
	cases := map[string]struct {
		page *klaxonv1alpha1.StatusPage
		want []string
	}{
		"services":          {page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), []string{"checkout-payments", "checkout-search"}},
		"selector":          {page(nil, payments), []string{"checkout-payments", "search-payments"}},
		"both":              {page([]klaxonv1alpha1.ServiceName{"checkout"}, payments), []string{"checkout-payments"}},
		"neither":           {page(nil, nil), nil},
		"unknown service":   {page([]klaxonv1alpha1.ServiceName{"billing"}, nil), nil},
		"empty selector":    {page(nil, &metav1.LabelSelector{}), nil},
		"two services":      {page([]klaxonv1alpha1.ServiceName{"checkout", "search"}, nil), []string{"checkout-payments", "checkout-search", "search-payments"}},
		"expression select": {page(nil, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"search"}}}}), []string{"checkout-payments", "search-payments", "nothing"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := statuspage.Select(tc.page, incidents)
			if err != nil {
				t.Fatal(err)
			}
			var gotNames []string
			for _, inc := range got {
				gotNames = append(gotNames, inc.Name)
			}
			if diff := cmp.Diff(tc.want, gotNames); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
		})
	}
	bad := page(nil, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Equals"}}})
	if _, err := statuspage.Select(bad, incidents); err == nil || !strings.Contains(err.Error(), "spec.selector") {
		t.Errorf("an invalid selector: got %v, want an error naming spec.selector", err)
	}
}

func TestBuild(t *testing.T) {
	h := time.Hour
	day := 24 * h
	cases := map[string]struct {
		incidents      []klaxonv1alpha1.Incident
		open, resolved []string
	}{
		"open by severity, then most recent first": {
			incidents: []klaxonv1alpha1.Incident{
				incident("sev3-old", klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.StateTriggered, -5*h, 0),
				incident("sev1", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.StateAcknowledged, -3*h, 0),
				incident("sev3-new", klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.StateMitigated, -1*h, 0),
			},
			open: []string{"sev1", "sev3-new", "sev3-old"},
		},
		"resolved most recent first, within 7 days": {
			incidents: []klaxonv1alpha1.Incident{
				incident("yesterday", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateResolved, -2*day, -day),
				incident("hour-ago", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateClosed, -2*h, -h),
				incident("eight-days", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.StateResolved, -9*day, -8*day),
				incident("just-inside", klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.StateResolved, -8*day, -7*day+time.Minute),
			},
			resolved: []string{"hour-ago", "yesterday", "just-inside"},
		},
		"open before resolved": {
			incidents: []klaxonv1alpha1.Incident{
				incident("resolved", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.StateResolved, -2*h, -h),
				incident("open", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateTriggered, -h, 0),
			},
			open: []string{"open"}, resolved: []string{"resolved"},
		},
		"resolved without a time is left out": {
			incidents: func() []klaxonv1alpha1.Incident {
				inc := incident("no-time", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateResolved, -h, 0)
				inc.Status.ResolvedAt = nil
				return []klaxonv1alpha1.Incident{inc}
			}(),
		},
		"closed without resolvedAt uses closedAt": {
			incidents: func() []klaxonv1alpha1.Incident {
				inc := incident("closed", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateClosed, -h, 0)
				inc.Status.ResolvedAt, inc.Status.ClosedAt = nil, at(-time.Minute)
				return []klaxonv1alpha1.Incident{inc}
			}(),
			resolved: []string{"closed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v := statuspage.Build(page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), tc.incidents, now)
			if diff := cmp.Diff(tc.open, names(v.Open)); diff != "" {
				t.Errorf("open (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.resolved, names(v.Resolved)); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildItem(t *testing.T) {
	inc := incident("checkout", klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.StateAcknowledged, -2*time.Hour-5*time.Minute, 0)
	inc.Spec.Impact = "5% of EU checkouts fail"
	inc.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{
		{Time: *at(-time.Hour), Author: "bob", Message: "Investigating."},
		{Time: *at(-10 * time.Minute), Author: "bob", Message: "Fix is rolling out."},
	}
	v := statuspage.Build(page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), []klaxonv1alpha1.Incident{inc}, now)
	want := statuspage.Item{
		ID: "urn:uuid:checkout-uid", Anchor: "incident-checkout-uid", Title: "checkout", Severity: "SEV2",
		Status: "Investigating", Service: "checkout", Impact: "5% of EU checkouts fail",
		Update:  &statuspage.Update{Text: "Fix is rolling out.", Time: now.Add(-10 * time.Minute)},
		Started: now.Add(-2*time.Hour - 5*time.Minute), Duration: 2*time.Hour + 5*time.Minute,
		Updated: now.Add(-10 * time.Minute),
	}
	if diff := cmp.Diff([]statuspage.Item{want}, v.Open); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	if !v.Updated.Equal(want.Updated) {
		t.Errorf("view updated %v, want %v", v.Updated, want.Updated)
	}
	if got := statuspage.Human(v.Open[0].Duration); got != "2h 5m" {
		t.Errorf("duration says %q, want 2h 5m", got)
	}
}

func TestBuildBounds(t *testing.T) {
	var incidents []klaxonv1alpha1.Incident
	for i := range 80 {
		incidents = append(incidents, incident(fmt.Sprintf("resolved-%02d", i), klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateResolved, -2*time.Hour, -time.Duration(i+1)*time.Minute))
	}
	for i := range 50 {
		inc := incident(fmt.Sprintf("open-%02d", i), klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateTriggered, -time.Duration(i+1)*time.Minute, 0)
		inc.Spec.Title = strings.Repeat("ü", 500)
		inc.Spec.Impact = strings.Repeat("i", 5000)
		inc.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{{Time: *at(-time.Minute), Message: strings.Repeat("u", 5000)}}
		incidents = append(incidents, inc)
	}
	v := statuspage.Build(page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), incidents, now)
	if len(v.Open) != 50 || len(v.Resolved) != 50 || v.Omitted != 30 {
		t.Fatalf("%d open, %d resolved, %d omitted; want 50, 50, 30", len(v.Open), len(v.Resolved), v.Omitted)
	}
	if v.Resolved[49].Title != "resolved-49" {
		t.Errorf("the last resolved shown is %s, want resolved-49 (the oldest are left out)", v.Resolved[49].Title)
	}
	it := v.Open[0]
	for what, n := range map[string]int{"title": len([]rune(it.Title)), "impact": len([]rune(it.Impact)), "update": len([]rune(it.Update.Text))} {
		if limit := map[string]int{"title": statuspage.MaxTitle, "impact": statuspage.MaxImpact, "update": statuspage.MaxUpdate}[what]; n > limit {
			t.Errorf("the %s has %d characters, more than %d", what, n, limit)
		}
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "under a minute", 59 * time.Second: "under a minute", 45 * time.Minute: "45m",
		2*time.Hour + 5*time.Minute: "2h 5m", 76 * time.Hour: "3d 4h",
	} {
		if got := statuspage.Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

// The page escapes what incidents say, has no script, and leaves out
// people and labels.
func TestWriteHTML(t *testing.T) {
	inc := incident("xss", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.StateTriggered, -time.Hour, 0)
	inc.Spec.Title = `<script>alert(1)</script> <b>bold</b>`
	inc.Spec.Impact = `"quoted" & <i>`
	inc.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{{Time: *at(-time.Minute), Author: "secret-author", Message: "We <3 you"}}
	p := page([]klaxonv1alpha1.ServiceName{"checkout"}, nil)
	p.Spec.Description = "<img src=x onerror=alert(2)>"
	var buf bytes.Buffer
	if err := statuspage.WriteHTML(&buf, statuspage.Build(p, []klaxonv1alpha1.Incident{inc}, now)); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;`, `&#34;quoted&#34; &amp; &lt;i&gt;`, `We &lt;3 you`,
		`&lt;img src=x onerror=alert(2)&gt;`, `<meta name="viewport"`, `<meta http-equiv="refresh" content="60">`,
		`Open incidents`, `open for 1h 0m`, `href="/status/shop/payments/feed.atom"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	for _, never := range []string{"<script", "<b>", "<img", "alice", "bob", "secret-author", "payments\"", "team"} {
		if strings.Contains(body, never) {
			t.Errorf("the page contains %q:\n%s", never, body)
		}
	}
}

func TestWriteHTMLNoIncidents(t *testing.T) {
	var buf bytes.Buffer
	if err := statuspage.WriteHTML(&buf, statuspage.Build(page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), nil, now)); err != nil {
		t.Fatal(err)
	}
	if body := buf.String(); !strings.Contains(body, "No open incidents.") || strings.Contains(body, "Resolved in the last") {
		t.Errorf("an empty page says:\n%s", body)
	}
}

func TestWriteAtom(t *testing.T) {
	open := incident("open", klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.StateTriggered, -time.Hour, 0)
	open.Spec.Title = "Checkout <down> & out"
	open.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{{Time: *at(-5 * time.Minute), Author: "bob", Message: "Rolling back."}}
	resolved := incident("resolved", klaxonv1alpha1.SeverityLow, klaxonv1alpha1.StateResolved, -3*time.Hour, -2*time.Hour)
	var buf bytes.Buffer
	v := statuspage.Build(page([]klaxonv1alpha1.ServiceName{"checkout"}, nil), []klaxonv1alpha1.Incident{resolved, open}, now)
	if err := statuspage.WriteAtom(&buf, v); err != nil {
		t.Fatal(err)
	}
	var feed struct {
		XMLName xml.Name
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Author  string `xml:"author>name"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &feed); err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, buf.String())
	}
	if feed.XMLName.Space != statuspage.AtomNamespace || feed.XMLName.Local != "feed" {
		t.Errorf("root element %v, want {%s}feed", feed.XMLName, statuspage.AtomNamespace)
	}
	if feed.ID != "urn:uuid:page-uid" || feed.Title != "Payments status" || feed.Author == "" {
		t.Errorf("feed id %q, title %q, author %q", feed.ID, feed.Title, feed.Author)
	}
	if want := now.Add(-5 * time.Minute).Format(time.RFC3339); feed.Updated != want {
		t.Errorf("feed updated %q, want %q (the latest update)", feed.Updated, want)
	}
	if len(feed.Links) != 2 || feed.Links[0].Rel != "self" || feed.Links[0].Href != "/status/shop/payments/feed.atom" {
		t.Errorf("links %+v", feed.Links)
	}
	if len(feed.Entries) != 2 {
		t.Fatalf("%d entries, want 2:\n%s", len(feed.Entries), buf.String())
	}
	first, second := feed.Entries[0], feed.Entries[1]
	if first.ID != "urn:uuid:open-uid" || first.Title != "[Investigating] SEV1: Checkout <down> & out" ||
		!strings.Contains(first.Summary, "Rolling back.") || strings.Contains(first.Summary, "bob") {
		t.Errorf("first entry %+v", first)
	}
	if second.ID != "urn:uuid:resolved-uid" || !strings.HasPrefix(second.Title, "[Resolved]") || second.Updated != now.Add(-2*time.Hour).Format(time.RFC3339) {
		t.Errorf("second entry %+v", second)
	}
}
