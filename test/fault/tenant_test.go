package fault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// The two tenants' credentials: each namespace has its own receiver token,
// Slack bot token and Slack signing secret.
const (
	tenantTokenA   = "receiver-token-of-a"
	tenantTokenB   = "receiver-token-of-b"
	tenantBotA     = "xoxb-tenant-a"
	tenantBotB     = "xoxb-tenant-b"
	tenantSigningA = "signing-secret-of-tenant-a-0123456789"
	tenantSigningB = "signing-secret-of-tenant-b-0123456789"
	// tenantSlackAlice and tenantSlackBob are the Slack users of alice (a
	// Responder in A only) and bob (in B only).
	tenantSlackAlice = "U0ALICE"
	tenantSlackBob   = "U0BOB"
)

var tenantAckLink = regexp.MustCompile(`https?://\S+/ack/\S+`)

// TestTenantIsolation runs one operator for two namespaces, A and B, whose
// people, channels and credentials differ, and checks that nothing of one
// acts in the other: A's token opens nothing in B; B's policy naming
// alice, a Responder of A only, and a channel "mail" of A only, reaches
// neither; A's acknowledge link and A's Slack buttons, altered or signed
// with B's secret, change nothing in B (nor in A); and the operator read no
// Secret of either namespace but those their routes and channels name.
func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	mail := mailpit.Start(t)
	slack := newTenantSlack(t)
	a, b := tenantNamespaceA(t, mail, slack.url), tenantNamespaceB(t, slack.url)
	op := startOperator(t, "tenant", "--watch-namespaces="+a+","+b)
	tenantCreateRoute(t, a, "a-token")
	tenantCreateRoute(t, b, "alertmanager-token")
	routeA, routeB := "/alertmanager/"+a+"/alerts", "/alertmanager/"+b+"/alerts"
	outage := hostilePayload("Outage", 1, nil)

	// Tokens are per namespace: one tenant's token neither opens the other's
	// route nor tells which of its routes exist. A holds a Secret with B's
	// token that no route of A names: it is not a token of A.
	for _, c := range []hostileCase{
		{name: "A's token on B's route", path: routeB, auth: "Bearer " + tenantTokenA, body: outage,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + routeB},
		{name: "B's token on A's route", path: routeA, auth: "Bearer " + tenantTokenB, body: outage,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + routeA},
		{name: "A's token on a route B does not have", path: "/alertmanager/" + b + "/nope", auth: "Bearer " + tenantTokenA, body: outage,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /alertmanager/" + b + "/nope"},
		{name: "B's token on a route A does not have", path: "/alertmanager/" + a + "/nope", auth: "Bearer " + tenantTokenB, body: outage,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /alertmanager/" + a + "/nope"},
		{name: "A's token on a route A does not have", path: "/alertmanager/" + a + "/nope", auth: "Bearer " + tenantTokenA, body: outage,
			code: http.StatusNotFound, says: "AlertRoute " + a + "/nope not found"},
	} {
		if code, says := hostileSend(t, op.receiverURL, c); code != c.code || !strings.Contains(says, c.says) {
			t.Errorf("%s: answered %d %q, want %d saying %q", c.name, code, says, c.code, c.says)
		}
	}
	for _, ns := range []string{a, b} {
		if incs := tenantIncidents(t, ns); len(incs) != 0 {
			t.Fatalf("tokens of the wrong tenant opened %d incidents in %s", len(incs), ns)
		}
	}

	// Each tenant's Alertmanager opens the same group in its own namespace.
	for _, c := range []hostileCase{
		{name: "A's token on A's route", path: routeA, auth: "Bearer " + tenantTokenA, body: outage,
			code: http.StatusOK, says: "opening one: incident alerts-"},
		{name: "B's token on B's route", path: routeB, auth: "Bearer " + tenantTokenB, body: outage,
			code: http.StatusOK, says: "opening one: incident alerts-"},
	} {
		if code, says := hostileSend(t, op.receiverURL, c); code != c.code || !strings.Contains(says, c.says) {
			t.Fatalf("%s: answered %d %q, want %d saying %q", c.name, code, says, c.code, c.says)
		}
	}
	incsA, incsB := tenantIncidents(t, a), tenantIncidents(t, b)
	if len(incsA) != 1 || len(incsB) != 1 {
		t.Fatalf("%d incidents in A and %d in B, want 1 and 1", len(incsA), len(incsB))
	}
	incA, incB := &incsA[0], &incsB[0]
	// Names are made from the route and the group, so both incidents have
	// the same name: only the namespace and UID tell them apart.
	if incA.Name != incB.Name {
		t.Fatalf("incidents %s and %s of the same route name and group have different names", incA.Name, incB.Name)
	}

	// A's page goes to alice by mail and Slack with A's credentials. B's
	// policy pages alice and channel "mail", which only A has, and bob.
	eventually(t, "both pages to be sent and B's delivery to A's channel tried", 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(incA), incA); err != nil {
			return false, err
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(incB), incB); err != nil {
			return false, err
		}
		bobSent, mailTried := false, false
		for _, n := range incB.Status.Notifications {
			bobSent = bobSent || (n.Responder == "bob" && n.State == klaxonv1alpha1.NotificationSent)
			mailTried = mailTried || (n.Channel == "mail" && n.Attempts > 0)
		}
		return len(incA.Status.Notifications) == 2 && allSent(incA) && bobSent && mailTried &&
			len(slack.calls("chat.postMessage")) == 2 && len(mail.All(t)) == 1, nil
	})
	time.Sleep(time.Second) // a mail or message sent to the wrong tenant would have arrived by now
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(incB), incB); err != nil {
		t.Fatal(err)
	}
	if got := paged(incA); got != "0:alice" {
		t.Errorf("A's incident paged %s, want 0:alice", got)
	}
	if got := paged(incB); got != "0:alice,0:bob" {
		t.Errorf("B's incident paged %s, want 0:alice,0:bob", got)
	}
	if got, want := tenantNotifications(incA), []string{
		"alice|mail|mail|alice@example.com|Sent|1|",
		"alice|slack|slack|" + tenantSlackAlice + "|Sent|1|",
	}; !slices.Equal(got, tenantSorted(want)) {
		t.Errorf("A's notifications:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := tenantNotifications(incB), []string{
		"alice||||Failed|0|paged alice: no Responder named alice",
		"bob|slack|slack|" + tenantSlackBob + "|Sent|1|",
		"||mail|b-team@example.com|Pending|1|NotificationChannel mail not found",
	}; !slices.Equal(got, tenantSorted(want)) {
		t.Errorf("B's notifications:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := meta.FindStatusCondition(incB.Status.Conditions, klaxonv1alpha1.ConditionNotificationFailed); c == nil ||
		c.Status != metav1.ConditionTrue || c.Reason != klaxonv1alpha1.ReasonNobodyReached || c.Message != "paged alice: no Responder named alice" {
		t.Errorf("B's NotificationFailed condition: %+v, want True, %s, naming alice", c, klaxonv1alpha1.ReasonNobodyReached)
	}
	if c := meta.FindStatusCondition(incA.Status.Conditions, klaxonv1alpha1.ConditionNotificationFailed); c == nil ||
		c.Status != metav1.ConditionFalse || c.Reason != klaxonv1alpha1.ReasonDelivered {
		t.Errorf("A's NotificationFailed condition: %+v, want False, %s", c, klaxonv1alpha1.ReasonDelivered)
	}

	// One mail: alice's page about A's incident, through A's channel.
	mails := mail.All(t)
	if len(mails) != 1 {
		t.Fatalf("mailpit holds %d mails, want 1", len(mails))
	}
	var page mailpit.Message
	mail.Get(t, "/api/v1/message/"+mails[0].ID, &page)
	if len(page.To) != 1 || page.To[0].Address != "alice@example.com" || !strings.Contains(page.Text, a+"/"+incA.Name) || strings.Contains(page.Text, b) {
		t.Fatalf("the mail: to %v, text:\n%s\nwant alice's page about %s/%s only", page.To, page.Text, a, incA.Name)
	}
	// Two Slack pages, each with its tenant's bot token and about its
	// tenant's incident only; no call of one tenant names the other.
	sealed := map[string]string{}
	for _, call := range slack.calls("chat.postMessage") {
		ns, other, user := a, b, tenantSlackAlice
		if call.auth == "Bearer "+tenantBotB {
			ns, other, user = b, a, tenantSlackBob
		}
		if call.body["channel"] != user || !strings.Contains(call.raw, ns+"/"+incA.Name) || strings.Contains(call.raw, other) {
			t.Errorf("a Slack page with %q to %v: %s", call.auth, call.body["channel"], call.raw)
		}
		sealed[ns] = tenantButtonValue(t, call.body)
	}
	if sealed[a] == "" || sealed[b] == "" {
		t.Fatalf("the Slack pages carry no buttons: %v", sealed)
	}

	stateA, stateB := tenantState(t, incA), tenantState(t, incB)
	unchanged := func(after string) {
		t.Helper()
		if got := tenantState(t, incA); got != stateA {
			t.Errorf("after %s A's incident is %s, was %s", after, got, stateA)
		}
		if got := tenantState(t, incB); got != stateB {
			t.Errorf("after %s B's incident is %s, was %s", after, got, stateB)
		}
	}

	// A's acknowledge link, its claims altered to name B's incident (same
	// name; B's namespace and UID), or its path made to name B, is refused
	// and changes nothing.
	link := tenantAckLink.FindString(page.Text)
	if link == "" {
		t.Fatalf("alice's page has no acknowledge link:\n%s", page.Text)
	}
	base, tok, _ := strings.Cut(link, "/ack/")
	forged := tenantForgeAckToken(t, tok, func(f []string) { f[0], f[2] = b, string(incB.UID) })
	for _, c := range []struct {
		name, method, url string
		code              int
		says              string
	}{
		{"A's link naming B's incident, opened", http.MethodGet, base + "/ack/" + forged, http.StatusForbidden, "This link is not valid: it was not made by this Klaxon, or it was altered."},
		{"A's link naming B's incident, pressed", http.MethodPost, base + "/ack/" + forged, http.StatusForbidden, "This link is not valid: it was not made by this Klaxon, or it was altered."},
		{"A's link under B's namespace", http.MethodPost, base + "/ack/" + b + "/" + tok, http.StatusNotFound, "404 page not found"},
	} {
		code, body := tenantRequest(t, c.method, c.url, nil, nil)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: answered %d, want %d saying %q:\n%s", c.name, code, c.code, c.says, hostileClip(body))
		}
	}
	unchanged("A's altered acknowledge link")

	// Slack presses. The button value names the incident and the channel
	// whose signing secret verifies the press, sealed by the operator: B's
	// secret cannot verify a press of A's button, nor A's of B's, an altered
	// value is no Klaxon value, and a user who is a responder in B only is
	// nobody in A.
	now := time.Now()
	for _, c := range []struct {
		name, value, secret, user string
		code                      int
		says                      string
	}{
		{"A's button signed with B's secret", sealed[a], tenantSigningB, tenantSlackBob,
			http.StatusUnauthorized, "The request's signature does not verify"},
		{"B's button signed with A's secret", sealed[b], tenantSigningA, tenantSlackAlice,
			http.StatusUnauthorized, "The request's signature does not verify"},
		{"A's button altered to name B's incident", tenantForgeSealed(t, sealed[a], b, string(incB.UID)), tenantSigningA, tenantSlackAlice,
			http.StatusBadRequest, "Not a press of a Klaxon button"},
		{"A's button, signed by A, pressed by B's responder", sealed[a], tenantSigningA, tenantSlackBob,
			http.StatusOK, "You are not a responder of this incident: no Responder in namespace " + a + " has your Slack user " + tenantSlackBob},
	} {
		code, body := tenantPress(t, op.receiverURL, c.value, notify.SlackActionAcknowledge, c.user, c.secret, now)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: answered %d %q, want %d saying %q", c.name, code, body, c.code, c.says)
		}
	}
	// The operator tells the stranger, with A's bot token, in A's terms.
	eventually(t, "the stranger to be told", 10*time.Second, func(context.Context) (bool, error) {
		return len(slack.calls("chat.postEphemeral")) == 1, nil
	})
	if eph := slack.calls("chat.postEphemeral")[0]; eph.auth != "Bearer "+tenantBotA || eph.body["user"] != tenantSlackBob || strings.Contains(eph.raw, b) {
		t.Errorf("chat.postEphemeral with %q: %s", eph.auth, eph.raw)
	}
	time.Sleep(500 * time.Millisecond)
	unchanged("Slack presses across namespaces")

	// Each tenant's own credentials still act, on its own incident only.
	if code, body := tenantPress(t, op.receiverURL, sealed[b], notify.SlackActionAcknowledge, tenantSlackBob, tenantSigningB, now); code != http.StatusOK ||
		!strings.Contains(body, "Acknowledged by bob") {
		t.Errorf("B's button pressed by bob: answered %d %q", code, body)
	}
	if code, body := tenantRequest(t, http.MethodPost, link, nil, nil); code != http.StatusOK || !strings.Contains(body, "Acknowledged by alice") {
		t.Errorf("A's link pressed: answered %d:\n%s", code, hostileClip(body))
	}
	eventually(t, "each incident to be acknowledged by its own responder", 30*time.Second, func(ctx context.Context) (bool, error) {
		return tenantState(t, incA) == "Acknowledged/Acknowledged by alice" && tenantState(t, incB) == "Acknowledged/Acknowledged by bob", nil
	})
	eventually(t, "B's Slack page to be edited", 10*time.Second, func(context.Context) (bool, error) {
		return len(slack.calls("chat.update")) == 1, nil
	})
	if upd := slack.calls("chat.update")[0]; upd.auth != "Bearer "+tenantBotB || upd.body["text"] != "Acknowledged by bob" || strings.Contains(upd.raw, a) {
		t.Errorf("chat.update with %q: %s", upd.auth, upd.raw)
	}
	for _, call := range slack.calls("") {
		if call.auth != "Bearer "+tenantBotA && call.auth != "Bearer "+tenantBotB {
			t.Errorf("a Slack call with %q: %s", call.auth, call.raw)
		}
	}
	if n := len(mail.All(t)); n != 1 {
		t.Errorf("mailpit holds %d mails, want alice's one page", n)
	}

	// Every Secret the operator asked for in A and B is one their routes or
	// channels name, read with a GET; the Secret of A that holds B's token,
	// named by nothing, was never read; no Secret was listed or watched.
	tenantCheckSecretReads(t, map[string][]string{a: {"a-token", "slack-app"}, b: {"alertmanager-token", "slack-app"}},
		map[string]string{a: "a-token", b: "alertmanager-token"})
	if !op.running() {
		t.Errorf("the operator exited")
	}
}

// tenantNamespaceA makes tenant A: alice, paged by mail and Slack; the
// route names the Secret a-token; the Secret alertmanager-token holds B's
// token but nothing of A names it.
func tenantNamespaceA(t *testing.T, mail *mailpit.Server, slackAPI string) string {
	t.Helper()
	ns := tenantNamespace(t, "tenant-a-")
	requireTLS := false
	tenantCreate(t,
		tenantTokenSecret(ns, "a-token", tenantTokenA),
		tenantTokenSecret(ns, "alertmanager-token", tenantTokenB),
		tenantSlackSecret(ns, tenantBotA, tenantSigningA),
		&klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: "mail", Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
				Smarthost: mail.SMTP, From: "klaxon@example.com", RequireTLS: &requireTLS}}},
		tenantSlackChannel(ns, slackAPI),
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{
				Contacts: []klaxonv1alpha1.Contact{
					{Name: "mail", Channel: "mail", Address: "alice@example.com"},
					{Name: "slack", Channel: "slack", Address: tenantSlackAlice}},
				Rules: []klaxonv1alpha1.NotificationRule{{Contact: "mail"}, {Contact: "slack"}}}},
		&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "policy", Namespace: ns},
			Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}}}},
	)
	return ns
}

// tenantNamespaceB makes tenant B: bob, paged by Slack; its policy also
// pages alice and the channel "mail", neither of which B has.
func tenantNamespaceB(t *testing.T, slackAPI string) string {
	t.Helper()
	ns := tenantNamespace(t, "tenant-b-")
	tenantCreate(t,
		tenantTokenSecret(ns, "alertmanager-token", tenantTokenB),
		tenantSlackSecret(ns, tenantBotB, tenantSigningB),
		tenantSlackChannel(ns, slackAPI),
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "bob", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{
				Contacts: []klaxonv1alpha1.Contact{{Name: "slack", Channel: "slack", Address: tenantSlackBob}},
				Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "slack"}}}},
		&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "policy", Namespace: ns},
			Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{
					{User: "alice"},
					{Channel: "mail", Address: "b-team@example.com"},
					{User: "bob"},
				}}}}},
	)
	return ns
}

func tenantNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

func tenantCreate(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		if err := k8s.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
}

func tenantTokenSecret(ns, name, value string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}},
		StringData: map[string]string{"token": value}}
}

func tenantSlackSecret(ns, bot, signing string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-app", Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
		StringData: map[string]string{"token": bot, "signing-secret": signing}}
}

func tenantSlackChannel(ns, apiURL string) *klaxonv1alpha1.NotificationChannel {
	return &klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: "slack", Namespace: ns},
		Spec: klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
			TokenSecretRef:   klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "token"},
			SigningSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "signing-secret"},
			APIURL:           apiURL,
		}}}
}

// tenantCreateRoute creates the namespace's AlertRoute "alerts", as
// team.createRoute does but naming the token Secret secret, and waits until
// it is Ready.
func tenantCreateRoute(t *testing.T, ns, secret string) {
	t.Helper()
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "alerts", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Severity:            klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical}},
			TitleTemplate:       `{{ .CommonLabels.alertname }}`,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "policy"},
			TokenSecretRef:      klaxonv1alpha1.SecretKeyReference{Name: secret, Key: "token"},
		},
	}
	tenantCreate(t, route)
	eventually(t, "route "+ns+"/alerts to be Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
}

func tenantIncidents(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// tenantNotifications lays out an incident's notifications, sorted, as
// "responder|contact|channel|address|state|attempts|error".
func tenantNotifications(inc *klaxonv1alpha1.Incident) []string {
	var out []string
	for _, n := range inc.Status.Notifications {
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|%d|%s", n.Responder, n.Contact, n.Channel, n.Address, n.State, n.Attempts, n.Error))
	}
	slices.Sort(out)
	return out
}

func tenantSorted(s []string) []string {
	slices.Sort(s)
	return s
}

// tenantState reads the incident again and says where it stands: the
// state asked for and reached, who acknowledged it and who moved it last,
// and its generation when nobody acknowledged it.
func tenantState(t *testing.T, inc *klaxonv1alpha1.Incident) string {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.AcknowledgedBy != "" {
		return fmt.Sprintf("%s/%s by %s", got.Spec.State, got.Status.Phase, got.Status.AcknowledgedBy)
	}
	return fmt.Sprintf("%s/%s, generation %d, actor %s", got.Spec.State, got.Status.Phase, got.Generation,
		got.Annotations[klaxonv1alpha1.ActorAnnotation])
}

// tenantForgeAckToken decodes an acknowledge link token (acklink: a version
// byte, then namespace, name, UID and responder, each a uvarint length and
// its bytes, then the episode and expiry), lets edit change those four
// fields, and encodes it again with the original signature.
func tenantForgeAckToken(t *testing.T, token string, edit func(fields []string)) string {
	t.Helper()
	enc := base64.RawURLEncoding
	payload, sig, _ := strings.Cut(token, ".")
	p, err := enc.DecodeString(payload)
	if err != nil || len(p) == 0 {
		t.Fatalf("the acknowledge link token %q does not decode: %v", token, err)
	}
	rest := p[1:]
	fields := make([]string, 4)
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			t.Fatalf("the acknowledge link token %q is not laid out as expected", token)
		}
		fields[i], rest = string(rest[k:k+int(n)]), rest[k+int(n):]
	}
	edit(fields)
	out := []byte{p[0]}
	for _, f := range fields {
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	out = append(out, rest...)
	return enc.EncodeToString(out) + "." + sig
}

// tenantForgeSealed changes the namespace and UID in a sealed Slack button
// value (base64url JSON, a dot, base64url MAC) and keeps the MAC.
func tenantForgeSealed(t *testing.T, sealed, ns, uid string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	data, mac, _ := strings.Cut(sealed, ".")
	raw, err := enc.DecodeString(data)
	if err != nil {
		t.Fatalf("the button value %q does not decode: %v", sealed, err)
	}
	var v notify.SlackButtonValue
	if err = json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("the button value %s: %v", raw, err)
	}
	v.Namespace, v.UID = ns, uid
	forged, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(forged) + "." + mac
}

// tenantPress posts the form Slack sends when user presses a button of
// value, signed with secret at ts.
func tenantPress(t *testing.T, base, value, action, user, secret string, ts time.Time) (int, string) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"type":      "block_actions",
		"user":      map[string]any{"id": user, "team_id": "T0TEAM"},
		"team":      map[string]any{"id": "T0TEAM"},
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0INCIDENTS"},
		"message": map[string]any{"type": "message", "ts": "1700000000.000100", "text": "[SEV1] Outage",
			"blocks": []any{map[string]any{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "*[SEV1] Outage*"}}}},
		"actions": []any{map[string]any{"action_id": action, "block_id": "klaxon_actions", "type": "button", "value": value}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = mac.Write([]byte("v0:" + stamp + ":"))
	_, _ = mac.Write(body)
	return tenantRequest(t, http.MethodPost, base+"/slack/interactions", body, http.Header{
		"Content-Type":              {"application/x-www-form-urlencoded"},
		"X-Slack-Request-Timestamp": {stamp},
		"X-Slack-Signature":         {"v0=" + hex.EncodeToString(mac.Sum(nil))},
	})
}

func tenantRequest(t *testing.T, method, target string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hostileClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

// tenantButtonValue is the value of the Acknowledge button of a
// chat.postMessage body.
func tenantButtonValue(t *testing.T, body map[string]any) string {
	t.Helper()
	blocks, _ := body["blocks"].([]any)
	for _, b := range blocks {
		elements, _ := b.(map[string]any)["elements"].([]any)
		for _, e := range elements {
			if el, _ := e.(map[string]any); el["action_id"] == notify.SlackActionAcknowledge {
				v, _ := el["value"].(string)
				return v
			}
		}
	}
	return ""
}

// tenantSlack answers the Slack Web API methods the operator calls, as
// Slack does, and records the calls.
type tenantSlack struct {
	url string

	mu  sync.Mutex
	all []tenantSlackCall
}

type tenantSlackCall struct {
	method, auth, raw string
	body              map[string]any
}

func newTenantSlack(t *testing.T) *tenantSlack {
	t.Helper()
	s := &tenantSlack{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.all = append(s.all, tenantSlackCall{method: strings.TrimPrefix(r.URL.Path, "/api/"), auth: r.Header.Get("Authorization"), raw: string(raw), body: body})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		channel, _ := body["channel"].(string)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": "1700000000.000100"})
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/api/"
	return s
}

// calls returns the calls of the method so far; every call when method is
// empty.
func (s *tenantSlack) calls(method string) []tenantSlackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenantSlackCall
	for _, c := range s.all {
		if method == "" || c.method == method {
			out = append(out, c)
		}
	}
	return out
}

// tenantAuditEvent is what the test reads of an audit.k8s.io/v1 Event.
type tenantAuditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
}

// tenantCheckSecretReads reads kube-apiserver's audit log: in each
// namespace of allowed the operator made only GETs of the Secrets listed,
// and at least one of must's; it never listed or watched Secrets anywhere.
func tenantCheckSecretReads(t *testing.T, allowed map[string][]string, must map[string]string) {
	t.Helper()
	f, err := os.Open(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64<<10), 4<<20)
	reads := map[string]int{}
	for scanner.Scan() {
		var e tenantAuditEvent
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			t.Fatalf("an audit log line: %v", err)
		}
		if e.User.Username != localcluster.OperatorUser || e.ObjectRef == nil || e.ObjectRef.Resource != "secrets" {
			continue
		}
		ref := e.ObjectRef
		if e.Verb == "list" || e.Verb == "watch" {
			t.Errorf("the operator asked to %s Secrets in namespace %q", e.Verb, ref.Namespace)
			continue
		}
		names, ok := allowed[ref.Namespace]
		if !ok {
			continue
		}
		if e.Verb != "get" || !slices.Contains(names, ref.Name) {
			t.Errorf("the operator asked to %s Secret %s/%s; it may only get %v there", e.Verb, ref.Namespace, ref.Name, names)
		}
		reads[ref.Namespace+"/"+ref.Name]++
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	for ns, name := range must {
		if reads[ns+"/"+name] == 0 {
			t.Errorf("the audit log shows no GET of Secret %s/%s: it does not record the operator's reads", ns, name)
		}
	}
	t.Logf("the operator's Secret requests in the tenants' namespaces: %v", reads)
}
