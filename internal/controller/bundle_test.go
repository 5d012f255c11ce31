package controller_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// stormSize is how many incidents page one person in the bundle test.
const stormSize = 50

var ackAllLink = regexp.MustCompile(`https?://\S+/ack-all/[A-Za-z0-9_.-]+`)

// TestStormToOnePersonIsBundled pages alice, by webhook and by mail, for 50
// incidents at once. Each contact gets three pages of their own and then
// nothing until the window's end, across an operator restart, but a SEV1
// that goes at once; then one bundle naming the other 47, which every
// incident records as sent, and whose one link acknowledges all 47 as
// alice.
func TestStormToOnePersonIsBundled(t *testing.T) {
	ctx := context.Background()
	smtp := mailpit.Start(t)
	publicURL, restart := bundleOperator(t)
	waitForReceiver(t, publicURL)
	ns := newNamespace(t)
	h := newHook(t, nil)
	hookChannel(t, ns, "hook", h.URL)
	requireTLS := false
	createChannel(t, ns, "mail", klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
		Smarthost: smtp.SMTP, From: "klaxon@example.com", RequireTLS: &requireTLS}})
	// alice as the guide shows her: one contact bundles as its rule says,
	// the other by default, alike.
	alice := &klaxonv1alpha1.Responder{}
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, "docs/reaching-people.md", "bundled-rule")), alice); err != nil {
		t.Fatal(err)
	}
	alice.Namespace = ns
	if err := k8s.Create(ctx, alice); err != nil {
		t.Fatal(err)
	}
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})

	var incidents []*klaxonv1alpha1.Incident
	for i := range stormSize {
		incidents = append(incidents, createIncident(t, k8s, ns, fmt.Sprintf("storm-%02d", i), withPolicy("direct"),
			withSeverity(klaxonv1alpha1.SeverityHigh), func(inc *klaxonv1alpha1.Incident) { inc.Spec.Title = fmt.Sprintf("Storm alert %02d", i) }))
	}
	mails := func() []mailpit.Message {
		var out []mailpit.Message
		for _, m := range smtp.Messages(t) {
			if len(m.To) == 1 && m.To[0].Address == "alice@example.com" {
				out = append(out, m)
			}
		}
		return out
	}
	eventually(t, "three pages of their own by webhook and by mail", func(context.Context) (bool, error) {
		return len(h.requests()) == 3 && len(mails()) == 3, nil
	})
	// The rest wait for the window: on each contact, 47 incidents hold
	// their delivery.
	eventually(t, "47 deliveries held on each contact", func(ctx context.Context) (bool, error) {
		held := map[string]int{}
		for _, inc := range incidents {
			got := &klaxonv1alpha1.Incident{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
				return false, err
			}
			for _, n := range got.Status.Notifications {
				if n.State == klaxonv1alpha1.NotificationPending {
					held[n.Contact]++
				}
			}
		}
		return held["hook"] == stormSize-3 && held["mail"] == stormSize-3, nil
	})

	// A SEV1 goes out at once, on both contacts, whatever the window holds.
	sev1 := createIncident(t, k8s, ns, "sev1", withPolicy("direct"), withSeverity(klaxonv1alpha1.SeverityCritical))
	waitForNotifications(t, sev1, "alice/hook:Sent/1,alice/mail:Sent/1")
	if n := len(h.requests()); n != 4 {
		t.Fatalf("%d webhook posts after the SEV1, want 4", n)
	}
	// Triggered, paged and delivered, an incident has one Event: the
	// trigger's, which names the page; the deliveries have none.
	var notes []string
	eventually(t, "the SEV1's Event", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, sev1)
		notes = notes[:0]
		for _, e := range evs {
			notes = append(notes, e.Reason+": "+e.Note)
		}
		return len(evs) > 0, err
	})
	time.Sleep(time.Second)
	if evs, err := incidentEvents(ctx, sev1); err != nil || len(evs) != 1 || evs[0].Reason != klaxonv1alpha1.TimelinePaged ||
		!strings.Contains(evs[0].Note, "riggered") || !strings.Contains(evs[0].Note, "Paged alice at level 0") {
		t.Errorf("the SEV1's Events: %v (%v), want one Paged Event naming the trigger and the page", notes, err)
	}

	// A restart inside the window sends nothing more: the new operator
	// counts what status says alice was sent. Its first reconciles hold
	// the 47 again.
	restart()
	waitForReceiver(t, publicURL)
	time.Sleep(2 * time.Second)
	if hooks, mail := len(h.requests()), len(mails()); hooks != 4 || mail != 4 {
		t.Fatalf("after the restart: %d webhook posts and %d mails, want 4 and 4", hooks, mail)
	}

	// At the window's end, one bundle per contact names the other 47.
	fakeClock.Step(31 * time.Second)
	nudge(t, incidents[stormSize-1])
	eventually(t, "one bundle by webhook and one by mail", func(context.Context) (bool, error) {
		return len(h.requests()) == 5 && len(mails()) == 5, nil
	})
	bundle := h.requests()[4].payload
	if field(bundle, "kind") != "Bundle" || field(bundle, "bundle.count") != "47" || field(bundle, "page.responder") != "alice" {
		t.Fatalf("the webhook bundle: kind %q, count %q, responder %q", field(bundle, "kind"), field(bundle, "bundle.count"), field(bundle, "page.responder"))
	}
	named := map[string]bool{}
	for _, e := range bundle["bundle"].(map[string]any)["incidents"].([]any) {
		named[e.(map[string]any)["name"].(string)] = true
	}
	var bundleMail mailpit.Message
	for _, m := range mails() {
		if strings.Contains(m.Subject, "47 incidents") {
			smtp.Get(t, "/api/v1/message/"+m.ID, &bundleMail)
		}
	}
	if !strings.Contains(bundleMail.Text, "Storm alert") || !ackAllLink.MatchString(bundleMail.Text) {
		t.Fatalf("the mail bundle, subject %q:\n%s", bundleMail.Subject, bundleMail.Text)
	}

	// Each incident records its own deliveries; those the bundles named
	// as sent in them, one bundle a contact.
	bundles := map[string]map[string]bool{}
	eventually(t, "every incident to record both deliveries as sent", func(ctx context.Context) (bool, error) {
		clear(bundles)
		for _, inc := range incidents {
			got := &klaxonv1alpha1.Incident{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
				return false, err
			}
			if notifications(got) != "alice/hook:Sent/1,alice/mail:Sent/1" {
				return false, nil
			}
			for _, n := range got.Status.Notifications {
				if n.Bundle == "" {
					continue
				}
				key := n.Contact + " " + n.Bundle
				if bundles[key] == nil {
					bundles[key] = map[string]bool{}
				}
				bundles[key][got.Name] = true
			}
		}
		return true, nil
	})
	if len(bundles) != 2 {
		t.Fatalf("bundles recorded: %v, want one a contact", bundles)
	}
	for key, names := range bundles {
		if len(names) != stormSize-3 {
			t.Errorf("bundle %s records %d incidents, want %d", key, len(names), stormSize-3)
		}
		if strings.HasPrefix(key, "hook ") && !maps.Equal(names, named) {
			t.Errorf("the webhook bundle named %v, the incidents record %v", named, names)
		}
	}

	// The bundle's one link acknowledges all 47, as alice.
	link := field(bundle, "bundle.acknowledgeURL")
	if !strings.HasPrefix(link, publicURL+"/ack-all/") {
		t.Fatalf("the bundle's acknowledge link %q is not under %s/ack-all/", link, publicURL)
	}
	resp, err := http.PostForm(link, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d", link, resp.StatusCode)
	}
	eventually(t, "the 47 to be acknowledged by alice", func(ctx context.Context) (bool, error) {
		acked := 0
		for name := range named {
			got := &klaxonv1alpha1.Incident{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
				return false, err
			}
			if got.Status.Phase == klaxonv1alpha1.StateAcknowledged && got.Status.AcknowledgedBy == "alice" {
				acked++
			}
		}
		return acked == stormSize-3, nil
	})
	// Nothing was sent twice, and the three first are not acknowledged.
	time.Sleep(time.Second)
	if hooks, mail := len(h.requests()), len(mails()); hooks != 5 || mail != 5 {
		t.Errorf("in all %d webhook posts and %d mails, want 5 and 5", hooks, mail)
	}
	for _, inc := range incidents {
		if named[inc.Name] {
			continue
		}
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != klaxonv1alpha1.StateTriggered {
			t.Errorf("%s, paged on its own, is %s", got.Name, got.Status.Phase)
		}
	}
}

// bundleOperator replaces the shared operator, for the rest of the test,
// by one with a receiver and a public URL, so pages carry acknowledge
// links; restart stops it and starts another like it.
func bundleOperator(t *testing.T) (publicURL string, restart func()) {
	t.Helper()
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	addr := proc.FreeAddr(t)
	publicURL = "http://" + addr
	var stop func() error
	start := func() {
		t.Helper()
		var err error
		_, stop, err = suite.StartOperator(cluster.OperatorConfig, operator.Options{
			MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: addr, PublicURL: publicURL, Clock: fakeClock, Restartable: true,
			EgressAllow: suite.LoopbackEgress,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	start()
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})
	return publicURL, func() {
		t.Helper()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		start()
	}
}

// waitForReceiver waits until the operator's receiver answers with its
// acknowledge key loaded: it answers 503 for an acknowledge page until the
// key is loaded, and after that pages carry their tokens.
func waitForReceiver(t *testing.T, publicURL string) {
	t.Helper()
	eventually(t, "the acknowledge key to load", func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, publicURL+"/ack/x", nil)
		// A refused connection means the receiver is not listening yet.
		code := 0
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			code = resp.StatusCode
		}
		return code != 0 && code != http.StatusServiceUnavailable, nil
	})
}
