package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

const (
	slackSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackBotToken      = "xoxb-receiver-test"
	slackUser          = "U024BE7LH"
	slackChannelID     = "C0INCIDENTS"
	slackMessageTS     = "1700000000.000100"
)

// slackCall is one Web API request the fake Slack got.
type slackCall struct {
	Method string
	Auth   string
	Body   map[string]any
}

// fakeSlackAPI answers the Web API methods Klaxon calls as Slack does and
// records the calls.
type fakeSlackAPI struct {
	mu    sync.Mutex
	calls []slackCall
}

func newFakeSlackAPI(t *testing.T) (*fakeSlackAPI, string) {
	t.Helper()
	f := &fakeSlackAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.calls = append(f.calls, slackCall{Method: strings.TrimPrefix(r.URL.Path, "/api/"), Auth: r.Header.Get("Authorization"), Body: body})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "Bearer "+slackBotToken {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"channel":"` + slackChannelID + `","ts":"` + slackMessageTS + `"}`))
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL + "/api/"
}

// waitForCall waits for a call of the method and returns it.
func (f *fakeSlackAPI) waitForCall(t *testing.T, method string) slackCall {
	t.Helper()
	var got slackCall
	eventually(t, "Slack to get "+method, func(context.Context) (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.calls {
			if c.Method == method {
				got = c
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

func (f *fakeSlackAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// slackFixture creates the Slack NotificationChannel team-slack, posting
// through the fake API, its Secret, and the Responder ada whose Slack
// contact on it is slackUser.
func slackFixture(t *testing.T, ns, apiURL string) {
	t.Helper()
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "slack-app", Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
			StringData: map[string]string{"token": slackBotToken, "signing-secret": slackSigningSecret + "\n"},
		},
		&klaxonv1alpha1.NotificationChannel{
			ObjectMeta: metav1.ObjectMeta{Name: "team-slack", Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
				TokenSecretRef:   klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "token"},
				SigningSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "signing-secret"},
				APIURL:           apiURL,
			}},
		},
		&klaxonv1alpha1.Responder{
			ObjectMeta: metav1.ObjectMeta{Name: "ada", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{
				{Name: "mail", Channel: "mail", Address: "ada@example.com"},
				{Name: "slack", Channel: "team-slack", Address: slackUser},
			}},
		},
		// grace has the same Slack user, but on another channel.
		&klaxonv1alpha1.Responder{
			ObjectMeta: metav1.ObjectMeta{Name: "grace", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{
				{Name: "slack", Channel: "other-slack", Address: slackUser},
			}},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the cache to see the channel and the responders", func(ctx context.Context) (bool, error) {
		list := &klaxonv1alpha1.ResponderList{}
		if err := mgr.GetClient().List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		return len(list.Items) == 2 &&
			mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: "team-slack"}, &klaxonv1alpha1.NotificationChannel{}) == nil, nil
	})
}

// slackPress builds the form Slack posts when someone presses a page's
// button, as Slack builds it.
func slackPress(t *testing.T, inc *klaxonv1alpha1.Incident, actionID, user string) []byte {
	t.Helper()
	return slackPressWithValue(t, inc, actionID, user, slackSealer(t).Seal(notify.SlackButtonPurpose, buttonValue(t, inc)))
}

// buttonValue is the value Klaxon puts, sealed, on the buttons of a page
// about inc sent through team-slack.
func buttonValue(t *testing.T, inc *klaxonv1alpha1.Incident) []byte {
	t.Helper()
	raw, err := json.Marshal(notify.SlackButtonValue{Namespace: inc.Namespace, Channel: "team-slack", Name: inc.Name, UID: string(inc.UID), Episode: inc.Status.Episode})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// slackPressWithValue is slackPress with the button's value as given.
func slackPressWithValue(t *testing.T, inc *klaxonv1alpha1.Incident, actionID, user, value string) []byte {
	t.Helper()
	payload := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": "ada.lovelace", "name": "ada.lovelace", "team_id": "T0TEAM"},
		"api_app_id": "A0KLAXON",
		"token":      "verification-token-deprecated",
		"container":  map[string]any{"type": "message", "message_ts": slackMessageTS, "channel_id": slackChannelID, "is_ephemeral": false},
		"trigger_id": "1700000001.1.abc",
		"team":       map[string]any{"id": "T0TEAM", "domain": "example"},
		"channel":    map[string]any{"id": slackChannelID, "name": "incidents"},
		"message": map[string]any{
			"type": "message", "ts": slackMessageTS, "bot_id": "B0KLAXON", "text": "[SEV1] " + inc.Spec.Title,
			"blocks": []any{
				map[string]any{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "*[SEV1] " + inc.Spec.Title + "*"}},
				map[string]any{"type": "actions", "block_id": "klaxon_actions", "elements": []any{}},
			},
		},
		"response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
		"actions": []any{map[string]any{
			"action_id": actionID, "block_id": "klaxon_actions", "type": "button", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Acknowledge"}, "action_ts": "1700000001.000200",
		}},
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// postSlack posts body to /slack/interactions signed with secret at ts.
func postSlack(t *testing.T, base string, body []byte, secret string, ts time.Time) (int, string) {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = mac.Write([]byte("v0:" + stamp + ":"))
	_, _ = mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, base+"/slack/interactions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// slackReceiver serves a receiver whose clock stands still at now.
func slackReceiver(t *testing.T, now time.Time) string {
	t.Helper()
	clk := testingclock.NewFakePassiveClock(now)
	keys := &acklink.Keyring{}
	keys.Set(slackSealer(t))
	return newReceiver(t, nil, func(o *receiver.Options) { o.Clock = clk; o.AckKeys = keys }).URL
}

var (
	sealerOnce sync.Once
	sealer     *acklink.Signer
)

// slackSealer is the key that seals the tests' button values, as the
// operator's key seals those of real pages.
func slackSealer(t *testing.T) *acklink.Signer {
	t.Helper()
	sealerOnce.Do(func() {
		s, err := acklink.NewSigner(bytes.Repeat([]byte{0x42}, acklink.MinKeyLength))
		if err != nil {
			t.Fatal(err)
		}
		sealer = s
	})
	return sealer
}

func TestSlackAcknowledgeButton(t *testing.T) {
	ns := newNamespace(t)
	fake, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	rv := resourceVersion(t, inc)
	press := slackPress(t, inc, notify.SlackActionAcknowledge, slackUser)

	// A wrong signature, or a stale one, changes nothing.
	if code, body := postSlack(t, base, press, "not-the-signing-secret", now); code != http.StatusUnauthorized {
		t.Errorf("wrong signature: answered %d: %s", code, body)
	}
	if code, body := postSlack(t, base, press, slackSigningSecret, now.Add(-6*time.Minute)); code != http.StatusUnauthorized {
		t.Errorf("6-minute-old timestamp: answered %d: %s", code, body)
	}
	if code, body := postSlack(t, base, press, slackSigningSecret, now.Add(6*time.Minute)); code != http.StatusUnauthorized {
		t.Errorf("timestamp 6 minutes ahead: answered %d: %s", code, body)
	}
	// A body altered after signing does not verify either.
	tampered := slackPress(t, inc, notify.SlackActionResolve, slackUser)
	stamp := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(slackSigningSecret))
	_, _ = mac.Write([]byte("v0:" + stamp + ":"))
	_, _ = mac.Write(press)
	req, _ := http.NewRequest(http.MethodPost, base+"/slack/interactions", bytes.NewReader(tampered))
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: %v, %v", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Fatalf("a press that did not verify changed the incident: resourceVersion %s, was %s", got, rv)
	}
	if fake.count() != 0 {
		t.Errorf("presses that did not verify made %d Slack calls", fake.count())
	}

	// A genuine press acknowledges as the responder whose contact it is.
	code, body := postSlack(t, base, press, slackSigningSecret, now)
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged by ada") {
		t.Fatalf("press answered %d: %s", code, body)
	}
	acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "ada" || acked.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("acknowledgedBy %q, actor %q; want ada", acked.Status.AcknowledgedBy, acked.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	update := fake.waitForCall(t, "chat.update")
	if update.Auth != "Bearer "+slackBotToken {
		t.Errorf("chat.update Authorization = %q", update.Auth)
	}
	if update.Body["channel"] != slackChannelID || update.Body["ts"] != slackMessageTS || update.Body["text"] != "Acknowledged by ada" {
		t.Errorf("chat.update body = %v", update.Body)
	}
	blocks, _ := json.Marshal(update.Body["blocks"])
	if !strings.Contains(string(blocks), "klaxon_facts") || strings.Contains(string(blocks), `"actions"`) || !strings.Contains(string(blocks), "Acknowledged by ada") {
		t.Errorf("chat.update blocks keep the facts, drop the buttons and say who acknowledged: %s", blocks)
	}

	// A second press changes nothing and says so, to the presser only.
	rv = resourceVersion(t, acked)
	code, body = postSlack(t, base, press, slackSigningSecret, now)
	if code != http.StatusOK || !strings.Contains(body, "already acknowledged") {
		t.Errorf("second press answered %d: %s", code, body)
	}
	if eph := fake.waitForCall(t, "chat.postEphemeral"); eph.Body["user"] != slackUser || !strings.Contains(eph.Body["text"].(string), "already acknowledged") {
		t.Errorf("chat.postEphemeral body = %v", eph.Body)
	}
	if got := resourceVersion(t, acked); got != rv {
		t.Errorf("a second press changed the incident: resourceVersion %s, was %s", got, rv)
	}
}

func TestSlackUnknownUserChangesNothing(t *testing.T) {
	ns := newNamespace(t)
	fake, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	rv := resourceVersion(t, inc)

	code, body := postSlack(t, base, slackPress(t, inc, notify.SlackActionAcknowledge, "U0STRANGER"), slackSigningSecret, now)
	if code != http.StatusOK || !strings.Contains(body, "You are not a responder of this incident") {
		t.Errorf("unknown user: answered %d: %s", code, body)
	}
	eph := fake.waitForCall(t, "chat.postEphemeral")
	if eph.Body["user"] != "U0STRANGER" || eph.Body["channel"] != slackChannelID || !strings.Contains(eph.Body["text"].(string), "You are not a responder") {
		t.Errorf("chat.postEphemeral body = %v", eph.Body)
	}
	// Resolve needs a responder too.
	if code, body = postSlack(t, base, slackPress(t, inc, notify.SlackActionResolve, "U0STRANGER"), slackSigningSecret, now); code != http.StatusOK || !strings.Contains(body, "You are not a responder") {
		t.Errorf("unknown user resolving: answered %d: %s", code, body)
	}
	time.Sleep(200 * time.Millisecond)
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("an unknown user changed the incident: resourceVersion %s, was %s", got, rv)
	}
}

func TestSlackResolveButton(t *testing.T) {
	ns := newNamespace(t)
	fake, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")

	code, body := postSlack(t, base, slackPress(t, inc, notify.SlackActionResolve, slackUser), slackSigningSecret, now)
	if code != http.StatusOK || !strings.Contains(body, "Resolved by ada") {
		t.Fatalf("press answered %d: %s", code, body)
	}
	resolved := waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	if resolved.Spec.State != klaxonv1alpha1.StateResolved || resolved.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("state %q, actor %q; want Resolved by ada", resolved.Spec.State, resolved.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	if update := fake.waitForCall(t, "chat.update"); update.Body["text"] != "Resolved by ada" || update.Body["ts"] != slackMessageTS {
		t.Errorf("chat.update body = %v", update.Body)
	}
}

func TestSlackRefusesUnverifiable(t *testing.T) {
	ns := newNamespace(t)
	fake, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	rv := resourceVersion(t, inc)

	// The signing secret's Secret loses its mark: even a correct signature
	// no longer counts. (This receiver reads the Secret for the first time
	// below.)
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "slack-app"}, secret); err != nil {
		t.Fatal(err)
	}
	delete(secret.Labels, klaxonv1alpha1.LabelChannelSecret)
	if err := k8s.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	press := slackPress(t, inc, notify.SlackActionAcknowledge, slackUser)
	if code, body := postSlack(t, base, press, slackSigningSecret, now); code != http.StatusUnauthorized {
		t.Errorf("unmarked Secret: answered %d: %s", code, body)
	}
	for name, body := range map[string][]byte{
		"not a form":        []byte("%%%"),
		"no payload":        []byte("a=b"),
		"another type":      []byte(url.Values{"payload": {`{"type":"view_submission"}`}}.Encode()),
		"another action":    bytes.ReplaceAll(press, []byte("klaxon_ack"), []byte("other_ack")),
		"a foreign channel": bytes.ReplaceAll(press, []byte("team-slack"), []byte("nope-slack")),
	} {
		if code, answer := postSlack(t, base, body, slackSigningSecret, now); code != http.StatusBadRequest && code != http.StatusUnauthorized {
			t.Errorf("%s: answered %d: %s", name, code, answer)
		}
	}
	if code, _ := post(t, base, http.MethodGet, "/slack/interactions", "", nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d, want 405", code)
	}
	big := append(bytes.Clone(press), bytes.Repeat([]byte("x"), 64<<10)...)
	if code, _ := postSlack(t, base, big, slackSigningSecret, now); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 64 KiB body answered %d, want 413", code)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("an unverifiable press changed the incident: resourceVersion %s, was %s", got, rv)
	}
	if fake.count() != 0 {
		t.Errorf("unverifiable presses made %d Slack calls", fake.count())
	}
}

// TestSlackRefusesValuesKlaxonDidNotSeal: a press whose button value names
// the incident and channel in the clear, or sealed with another key, is
// refused even with the channel's valid signature: holding a signing
// secret must not let anyone name another namespace's incident or channel.
func TestSlackRefusesValuesKlaxonDidNotSeal(t *testing.T) {
	ns := newNamespace(t)
	_, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "forged", "Checkout down")
	rv := resourceVersion(t, inc)
	other, err := acklink.NewSigner(bytes.Repeat([]byte{0x17}, acklink.MinKeyLength))
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"in the clear":    string(buttonValue(t, inc)),
		"another key":     other.Seal(notify.SlackButtonPurpose, buttonValue(t, inc)),
		"another purpose": slackSealer(t).Seal("ack-link", buttonValue(t, inc)),
	} {
		press := slackPressWithValue(t, inc, notify.SlackActionAcknowledge, slackUser, value)
		if code, body := postSlack(t, base, press, slackSigningSecret, now); code != http.StatusBadRequest {
			t.Errorf("%s: answered %d: %s", name, code, body)
		}
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("a press with a forged value changed the incident")
	}
}
