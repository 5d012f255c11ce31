package controller_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The API server takes a webhook's URL inline or from a Secret, never both
// and never neither, a Slack API URL from at most one of the two, and
// incident channels only for known severities, with an archiveAfter from
// 0s to a year and a prefix Slack takes.
func TestChannelSpecIsValidated(t *testing.T) {
	ns := newNamespace(t)
	ref := &klaxonv1alpha1.SecretKeyReference{Name: "hook-url", Key: "url"}
	token := klaxonv1alpha1.SecretKeyReference{Name: "slack", Key: "token"}
	cases := map[string]struct {
		spec klaxonv1alpha1.NotificationChannelSpec
		says string // "" when the channel is valid
	}{
		"webhook with url and urlSecretRef": {klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
			URL: "https://hooks.example.com/klaxon", URLSecretRef: ref}}, "set exactly one of url and urlSecretRef"},
		"webhook with neither": {klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{}},
			"set exactly one of url and urlSecretRef"},
		"webhook with urlSecretRef": {klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
			URLSecretRef: ref}}, ""},
		"slack with apiURL and apiURLSecretRef": {klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
			TokenSecretRef: token, APIURL: "https://chat.example.com/api/", APIURLSecretRef: ref}},
			"set at most one of apiURL and apiURLSecretRef"},
		"slack with apiURLSecretRef": {klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
			TokenSecretRef: token, APIURLSecretRef: ref}}, ""},
		"slack with neither": {klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
			TokenSecretRef: token}}, ""},
		"incident channels": {incidentChannels(token, []klaxonv1alpha1.Severity{"SEV1"}, "0s", "war-room"), ""},
		"incident channels for no severity": {incidentChannels(token, nil, "", ""),
			"spec.slack.incidentChannels.severities: Required value"},
		"incident channels for an unknown severity": {incidentChannels(token, []klaxonv1alpha1.Severity{"P1"}, "", ""),
			`Unsupported value: "P1"`},
		"incident channels archived after a year and more": {incidentChannels(token, []klaxonv1alpha1.Severity{"SEV1"}, "8761h", ""),
			"archiveAfter must be from 0s to 8760h"},
		"incident channels archived before the close": {incidentChannels(token, []klaxonv1alpha1.Severity{"SEV1"}, "-1h", ""),
			"archiveAfter must be from 0s to 8760h"},
		"incident channels with a prefix Slack refuses": {incidentChannels(token, []klaxonv1alpha1.Severity{"SEV1"}, "", "War Room"),
			"spec.slack.incidentChannels.prefix: Invalid value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ch := &klaxonv1alpha1.NotificationChannel{
				ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(strings.ReplaceAll(name, " ", "-")), Namespace: ns}, Spec: tc.spec}
			err := k8s.Create(context.Background(), ch)
			switch {
			case tc.says == "" && err != nil:
				t.Errorf("got %v, want the channel accepted", err)
			case tc.says != "" && (!apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says)):
				t.Errorf("got %v, want Invalid saying %q", err, tc.says)
			}
		})
	}
}

// incidentChannels is a Slack channel with incidentChannels; archiveAfter
// and prefix are left unset when "".
func incidentChannels(token klaxonv1alpha1.SecretKeyReference, sevs []klaxonv1alpha1.Severity, archiveAfter, prefix string) klaxonv1alpha1.NotificationChannelSpec {
	ic := &klaxonv1alpha1.SlackIncidentChannels{Severities: sevs, Prefix: prefix}
	if archiveAfter != "" {
		d, err := time.ParseDuration(archiveAfter)
		if err != nil {
			panic(err)
		}
		ic.ArchiveAfter = &metav1.Duration{Duration: d}
	}
	return klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{TokenSecretRef: token, IncidentChannels: ic}}
}

// tokenHook is a webhook server that records the token in the query of
// each request it receives.
type tokenHook struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
}

func newTokenHook(t *testing.T) *tokenHook {
	t.Helper()
	h := &tokenHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.tokens = append(h.tokens, r.URL.Query().Get("token"))
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *tokenHook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.tokens...)
}

// mustNotShow fails when the JSON of obj contains secret.
func mustNotShow(t *testing.T, what string, obj any, secret string) {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) {
		t.Errorf("%s shows the URL from the Secret: %s", what, data)
	}
}

// A webhook whose URL, token in the query, is only in a Secret gets the
// page; the URL shows in no status, condition or Event.
func TestWebhookURLFromSecretDeliversAPage(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	h := newTokenHook(t)
	const token = "t0ps3cret-in-query"
	channelSecret(t, ns, "hook-url", true, map[string]string{"url": h.URL + "/page?token=" + token + "\n"})
	ch := createChannel(t, ns, "hook", klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
		URLSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "hook-url", Key: "url"}}})
	channelReady(t, ch, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, `Posts to the webhook at the URL in Secret hook-url, key "url"`)
	// Not even the host of a URL kept in a Secret.
	mustNotShow(t, "the channel", ch, strings.TrimPrefix(h.URL, "http://"))

	responder(t, ns, "alice", nil, "hook")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "db-down", withPolicy("direct"), withSeverity(klaxonv1alpha1.SeverityCritical))
	got := waitForNotifications(t, inc, "alice/hook:Sent/1")
	if tokens := h.received(); len(tokens) != 1 || tokens[0] != token {
		t.Fatalf("the webhook received tokens %q, want one %q", tokens, token)
	}

	mustNotShow(t, "the incident", got, token)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ch), ch); err != nil {
		t.Fatal(err)
	}
	mustNotShow(t, "the channel", ch, token)
	r := &klaxonv1alpha1.Responder{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "alice"}, r); err != nil {
		t.Fatal(err)
	}
	mustNotShow(t, "the responder", r, token)
	// Events are written in the background: wait for the channel's and the
	// page's, so that the check below has something to check.
	events := &eventsv1.EventList{}
	eventually(t, "the channel's Valid Event and the page's Event", func(ctx context.Context) (bool, error) {
		if err := k8s.List(ctx, events, client.InNamespace(ns)); err != nil {
			return false, err
		}
		var valid, notified bool
		for _, e := range events.Items {
			valid = valid || (e.Regarding.UID == ch.UID && e.Reason == klaxonv1alpha1.ReasonValid)
			notified = notified || (e.Regarding.UID == got.UID && e.Reason == klaxonv1alpha1.TimelinePaged)
		}
		return valid && notified, nil
	})
	mustNotShow(t, "an Event", events, token)
}

// A channel whose URL Secret is unlabelled, lacks the key or holds no
// http(s) URL says so, naming the Secret and key but never the value; it
// sends once the Secret is fixed.
func TestChannelURLSecretProblems(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	const token = "t0ps3cret-in-query"
	hookFrom := func(name, secret string) *klaxonv1alpha1.NotificationChannel {
		return createChannel(t, ns, name, klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
			URLSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: secret, Key: "url"}}})
	}

	channelSecret(t, ns, "unmarked-url", false, map[string]string{"url": "https://hooks.example.com/?token=" + token})
	unmarked := hookFrom("unmarked", "unmarked-url")
	channelReady(t, unmarked, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotMarked,
		"spec.webhook.urlSecretRef: Secret unmarked-url lacks the label "+klaxonv1alpha1.LabelChannelSecret+"=true")

	keyless := channelSecret(t, ns, "keyless-url", true, map[string]string{"other": "https://hooks.example.com/"})
	missing := hookFrom("missing-key", "keyless-url")
	channelReady(t, missing, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotFound,
		`spec.webhook.urlSecretRef: Secret keyless-url has no key "url", or it holds only whitespace: set the key`)

	channelSecret(t, ns, "ftp-url", true, map[string]string{"url": "ftp://files.example.com/?token=" + token})
	ftp := hookFrom("ftp", "ftp-url")
	channelReady(t, ftp, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel,
		`spec.webhook.urlSecretRef: Secret ftp-url, key "url" holds no absolute http or https URL: set the key to one`)
	channelSecret(t, ns, "broken-url", true, map[string]string{"url": "https://hooks.example.com:port/?token=" + token})
	broken := hookFrom("broken", "broken-url")
	channelReady(t, broken, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel,
		`Secret broken-url, key "url" holds no absolute http or https URL`)

	// A Slack API URL from a Secret is read and checked the same way.
	channelSecret(t, ns, "slack", true, map[string]string{"token": "xoxb-1", "api": "chat.example.com/api/?token=" + token})
	slack := createChannel(t, ns, "slack", klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
		TokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: "slack", Key: "token"},
		APIURLSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "slack", Key: "api"}}})
	channelReady(t, slack, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel,
		`spec.slack.apiURLSecretRef: Secret slack, key "api" holds no absolute http or https URL`)

	for _, ch := range []*klaxonv1alpha1.NotificationChannel{unmarked, ftp, broken, slack} {
		mustNotShow(t, "channel "+ch.Name, ch, token)
	}
	events := &eventsv1.EventList{}
	eventually(t, "an Event for each channel's Ready=False", func(ctx context.Context) (bool, error) {
		if err := k8s.List(ctx, events, client.InNamespace(ns)); err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, e := range events.Items {
			seen[e.Regarding.Name+"/"+e.Reason] = true
		}
		return seen["unmarked/"+klaxonv1alpha1.ReasonSecretNotMarked] && seen["ftp/"+klaxonv1alpha1.ReasonInvalidChannel] &&
			seen["broken/"+klaxonv1alpha1.ReasonInvalidChannel] && seen["slack/"+klaxonv1alpha1.ReasonInvalidChannel], nil
	})
	mustNotShow(t, "an Event", events, token)

	// The recheck reads the fixed Secret: no watch reports the change.
	keyless.StringData = map[string]string{"url": "https://hooks.example.com/?token=" + token}
	if err := k8s.Update(ctx, keyless); err != nil {
		t.Fatal(err)
	}
	channelReady(t, missing, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, `the URL in Secret keyless-url, key "url"`)
}
