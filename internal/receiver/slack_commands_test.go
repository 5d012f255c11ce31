package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

// commandFixture creates a Slack NotificationChannel of its own app (a
// signing secret no other namespace's channel has) and the Responder ada
// whose Slack contact on it is slackUser. It returns the signing secret.
// mutate changes the channel's spec before it is created.
func commandFixture(t *testing.T, ns string, mutate ...func(*klaxonv1alpha1.SlackChannel)) string {
	t.Helper()
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := "commands-" + ns
	app := &klaxonv1alpha1.SlackChannel{
		TokenSecretRef:   klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "token"},
		SigningSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "signing-secret"},
	}
	for _, m := range mutate {
		m(app)
	}
	objs := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "slack-app", Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
			StringData: map[string]string{"token": slackBotToken, "signing-secret": secret},
		},
		&klaxonv1alpha1.NotificationChannel{
			ObjectMeta: metav1.ObjectMeta{Name: "team-slack", Namespace: ns},
			Spec:       klaxonv1alpha1.NotificationChannelSpec{Slack: app},
		},
		&klaxonv1alpha1.Responder{
			ObjectMeta: metav1.ObjectMeta{Name: "ada", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{
				{Name: "slack", Channel: "team-slack", Address: slackUser},
			}},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the cache to see the channel and the responder", func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: "ada"}, &klaxonv1alpha1.Responder{}) == nil &&
			mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: "team-slack"}, &klaxonv1alpha1.NotificationChannel{}) == nil, nil
	})
	return secret
}

// slashCommand builds the form Slack posts for /klaxon text from user, typed
// in the channel slackChannelID.
func slashCommand(user, text string) []byte {
	return slashCommandIn(slackChannelID, "https://hooks.slack.com/commands/T0TEAM/1/abc", user, text)
}

// slashCommandIn builds the form Slack posts for /klaxon text from user,
// typed in channel, to be answered later at responseURL.
func slashCommandIn(channel, responseURL, user, text string) []byte {
	return []byte(url.Values{
		"token": {"verification-token-deprecated"}, "team_id": {"T0TEAM"}, "team_domain": {"example"},
		"channel_id": {channel}, "channel_name": {"incidents"}, "user_id": {user}, "user_name": {"ada.lovelace"},
		"command": {"/klaxon"}, "text": {text}, "api_app_id": {"A0KLAXON"},
		"response_url": {responseURL}, "trigger_id": {"1700000001.1.abc"},
	}.Encode())
}

// commandAnswer is what Klaxon answers a command.
type commandAnswer struct {
	Code         int
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// postCommand posts body to /slack/commands signed with secret at ts.
func postCommand(t *testing.T, base string, body []byte, secret string, ts time.Time) commandAnswer {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = mac.Write([]byte("v0:" + stamp + ":"))
	_, _ = mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(body))
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
	raw, _ := io.ReadAll(resp.Body)
	a := commandAnswer{Code: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	} else {
		a.Text = string(raw)
	}
	return a
}

func incidents(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestSlackCommandsDeclareAckUpdateResolve(t *testing.T) {
	ns := newNamespace(t)
	secret := commandFixture(t, ns)
	now := time.Now()
	base := slackReceiver(t, now)

	declare := slashCommand(slackUser, `declare "Checkout returns 500" --sev SEV2 --service checkout`)
	// Forged, stale or from the future: refused, nothing declared.
	if a := postCommand(t, base, declare, "not-the-signing-secret", now); a.Code != http.StatusUnauthorized {
		t.Errorf("forged: %+v", a)
	}
	if a := postCommand(t, base, declare, secret, now.Add(-6*time.Minute)); a.Code != http.StatusUnauthorized {
		t.Errorf("stale: %+v", a)
	}
	if a := postCommand(t, base, declare, secret, now.Add(6*time.Minute)); a.Code != http.StatusUnauthorized {
		t.Errorf("from the future: %+v", a)
	}
	// An unknown caller is told so and changes nothing.
	if a := postCommand(t, base, slashCommand("U0STRANGER", `declare "Anything"`), secret, now); a.Code != http.StatusOK ||
		a.ResponseType != "ephemeral" || !strings.Contains(a.Text, "You are not a responder") {
		t.Errorf("unknown caller: %+v", a)
	}
	if got := incidents(t, ns); len(got) != 0 {
		t.Fatalf("refused commands declared %d incidents", len(got))
	}

	a := postCommand(t, base, declare, secret, now)
	if a.Code != http.StatusOK || a.ResponseType != "in_channel" || !strings.Contains(a.Text, "ada declared incident") {
		t.Fatalf("declare: %+v", a)
	}
	// The same request again, within the window: already declared.
	if a := postCommand(t, base, declare, secret, now); a.Code != http.StatusOK || !strings.Contains(a.Text, "already declared") {
		t.Errorf("replayed declare: %+v", a)
	}
	list := incidents(t, ns)
	if len(list) != 1 {
		t.Fatalf("%d incidents declared, want 1", len(list))
	}
	inc := &list[0]
	if inc.Spec.Title != "Checkout returns 500" || inc.Spec.Severity != klaxonv1alpha1.SeverityHigh || inc.Spec.Service != "checkout" ||
		inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" || inc.Spec.Commander != "ada" {
		t.Errorf("declared incident: spec %+v, annotations %v", inc.Spec, inc.Annotations)
	}
	inc = waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1)

	// A caller with no contact on this app cannot acknowledge.
	rv := resourceVersion(t, inc)
	if a := postCommand(t, base, slashCommand("U0STRANGER", "ack "+inc.Name), secret, now); !strings.Contains(a.Text, "You are not a responder") {
		t.Errorf("unknown caller's ack: %+v", a)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("an unknown caller changed the incident")
	}

	ack := slashCommand(slackUser, "ack "+inc.Name)
	if a := postCommand(t, base, ack, secret, now); a.ResponseType != "in_channel" || !strings.Contains(a.Text, "ada acknowledged") {
		t.Fatalf("ack: %+v", a)
	}
	acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "ada" {
		t.Errorf("acknowledgedBy %q, want ada", acked.Status.AcknowledgedBy)
	}
	if a := postCommand(t, base, ack, secret, now); !strings.Contains(a.Text, "already acknowledged") {
		t.Errorf("replayed ack: %+v", a)
	}

	update := slashCommand(slackUser, "update "+inc.Name+` "Rolled back release 1234, monitoring."`)
	if a := postCommand(t, base, update, secret, now); a.ResponseType != "in_channel" || !strings.Contains(a.Text, "ada posted an update") {
		t.Fatalf("update: %+v", a)
	}
	if a := postCommand(t, base, update, secret, now); !strings.Contains(a.Text, "already posted") {
		t.Errorf("replayed update: %+v", a)
	}
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Updates) != 1 || got.Spec.Updates[0].Author != "ada" || got.Spec.Updates[0].Message != "Rolled back release 1234, monitoring." {
		t.Errorf("updates %+v; want one, by ada", got.Spec.Updates)
	}

	if a := postCommand(t, base, slashCommand(slackUser, "resolve "+inc.Name), secret, now); !strings.Contains(a.Text, "ada resolved") {
		t.Fatalf("resolve: %+v", a)
	}
	resolved := waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	if resolved.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("resolved by %q, want ada", resolved.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
}

// incidentChannelID is the Slack channel the tests give an incident as its
// own.
const incidentChannelID = "C0CHECKOUT"

// setSlackChannel records channelID as the incident's own Slack channel,
// kept by the NotificationChannel app, as the operator does once Slack made
// it, and waits for the cache to show it.
func setSlackChannel(t *testing.T, inc *klaxonv1alpha1.Incident, app, channelID string) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"slackChannel": klaxonv1alpha1.IncidentSlackChannel{
		NotificationChannel: app, Name: "inc-" + inc.Name, ID: channelID, RequestedAt: metav1.Now(),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := k8s.Status().Patch(context.Background(), inc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the incident's Slack channel", func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.Incident{}
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), got)
		return err == nil && got.Status.SlackChannel != nil && got.Status.SlackChannel.ID == channelID, nil
	})
}

// In an incident's own channel, ack, resolve and update need no name;
// elsewhere they do, or --incident.
func TestSlackCommandsInIncidentChannel(t *testing.T) {
	ns := newNamespace(t)
	secret := commandFixture(t, ns)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	other := triggeredIncident(t, ns, "search-slow", "Search slow")
	setSlackChannel(t, inc, "team-slack", incidentChannelID)
	here := func(text string) []byte {
		return slashCommandIn(incidentChannelID, "https://hooks.slack.com/commands/T0TEAM/2/abc", slackUser, text)
	}

	// Typed in another channel without a name: the caller is told to name
	// the incident, and nothing changes.
	// What a command changes, compared rather than resource versions: the
	// operator may write the incident's status meanwhile.
	changes := func(inc *klaxonv1alpha1.Incident) string {
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s %v %q", got.Spec.State, got.Spec.Updates, got.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	before, otherBefore := changes(inc), changes(other)
	for _, text := range []string{"ack", "resolve", "update Mitigated"} {
		a := postCommand(t, base, slashCommand(slackUser, text), secret, now)
		if a.Code != http.StatusOK || a.ResponseType != "ephemeral" || !strings.Contains(a.Text, "Name the incident") ||
			!strings.Contains(a.Text, "Nothing was changed") {
			t.Errorf("%q elsewhere: %+v", text, a)
		}
	}
	// Nor is a command taken whose response_url is not https.
	if a := postCommand(t, base, slashCommandIn(incidentChannelID, "http://hooks.slack.com/commands/T0TEAM/2/abc", slackUser, "ack"), secret, now); a.Code != http.StatusOK ||
		!strings.Contains(a.Text, "no address to answer") {
		t.Errorf("ack with an http response_url: %+v", a)
	}
	if changes(inc) != before || changes(other) != otherBefore {
		t.Fatalf("a command that was not taken changed an incident: %s, %s", changes(inc), changes(other))
	}

	// In the incident's channel: that incident, as the caller's Responder.
	if a := postCommand(t, base, here("ack"), secret, now); a.ResponseType != "in_channel" || !strings.Contains(a.Text, "ada acknowledged incident "+ns+"/checkout-down") {
		t.Fatalf("ack in the incident's channel: %+v", a)
	}
	if acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1); acked.Status.AcknowledgedBy != "ada" {
		t.Errorf("acknowledgedBy %q, want ada", acked.Status.AcknowledgedBy)
	}
	// Every word is the update's text, even one that names an incident.
	update := here("update search-slow is unrelated; checkout rolled back")
	if a := postCommand(t, base, update, secret, now); a.ResponseType != "in_channel" || !strings.Contains(a.Text, "ada posted an update to incident "+ns+"/checkout-down") {
		t.Fatalf("update in the incident's channel: %+v", a)
	}
	if a := postCommand(t, base, update, secret, now); !strings.Contains(a.Text, "already posted") {
		t.Errorf("replayed update: %+v", a)
	}

	// --incident names another, wherever typed.
	if a := postCommand(t, base, here("ack --incident search-slow"), secret, now); !strings.Contains(a.Text, "ada acknowledged incident "+ns+"/search-slow") {
		t.Fatalf("ack --incident: %+v", a)
	}
	waitForEpisode(t, other, klaxonv1alpha1.StateAcknowledged, 1)
	if a := postCommand(t, base, slashCommand(slackUser, "update --incident search-slow Reindexing"), secret, now); !strings.Contains(a.Text, "ada posted an update to incident "+ns+"/search-slow") {
		t.Fatalf("update --incident: %+v", a)
	}

	if a := postCommand(t, base, here("resolve"), secret, now); !strings.Contains(a.Text, "ada resolved incident "+ns+"/checkout-down") {
		t.Fatalf("resolve in the incident's channel: %+v", a)
	}
	if resolved := waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1); resolved.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("resolved by %q, want ada", resolved.Annotations[klaxonv1alpha1.ActorAnnotation])
	}

	for _, tc := range []struct {
		inc  *klaxonv1alpha1.Incident
		want string
	}{{inc, "search-slow is unrelated; checkout rolled back"}, {other, "Reindexing"}} {
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tc.inc), got); err != nil {
			t.Fatal(err)
		}
		if len(got.Spec.Updates) != 1 || got.Spec.Updates[0].Author != "ada" || got.Spec.Updates[0].Message != tc.want {
			t.Errorf("%s: updates %+v; want one by ada: %q", tc.inc.Name, got.Spec.Updates, tc.want)
		}
	}
	if got := waitForEpisode(t, other, klaxonv1alpha1.StateAcknowledged, 1); got.Spec.State != klaxonv1alpha1.StateAcknowledged {
		t.Errorf("%s is %s; only the channel's incident was resolved", other.Name, got.Spec.State)
	}
}

func TestSlackCommandsHelpOncallCover(t *testing.T) {
	ns := newNamespace(t)
	secret := commandFixture(t, ns)
	now := time.Now()
	base := slackReceiver(t, now)

	for _, text := range []string{"help", "", "page everyone"} {
		if a := postCommand(t, base, slashCommand(slackUser, text), secret, now); a.ResponseType != "ephemeral" || !strings.Contains(a.Text, "/klaxon declare") {
			t.Errorf("%q: %+v", text, a)
		}
	}
	if a := postCommand(t, base, slashCommand(slackUser, "oncall"), secret, now); !strings.Contains(a.Text, "no OnCallSchedule") {
		t.Errorf("oncall without schedules: %+v", a)
	}
	sched := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "primary", Participants: []string{"alice"},
			Start: time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05"), Shift: metav1.Duration{Duration: 24 * time.Hour},
		}}},
	}
	if err := k8s.Create(context.Background(), sched); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the schedule", func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(sched), &klaxonv1alpha1.OnCallSchedule{}) == nil, nil
	})
	if a := postCommand(t, base, slashCommand(slackUser, "oncall primary"), secret, now); a.ResponseType != "ephemeral" || !strings.Contains(a.Text, "primary: ") {
		t.Errorf("oncall: %+v", a)
	}

	// A cover is an OnCallOverride from now, made once however often the
	// request is replayed.
	cover := slashCommand(slackUser, "cover alice dave --for 3h")
	if a := postCommand(t, base, cover, secret, now); a.ResponseType != "in_channel" || !strings.Contains(a.Text, "made dave cover alice on primary for 3h0m0s") {
		t.Fatalf("cover: %+v", a)
	}
	if a := postCommand(t, base, cover, secret, now); !strings.Contains(a.Text, "already made") {
		t.Errorf("the cover replayed: %+v", a)
	}
	overrides := &klaxonv1alpha1.OnCallOverrideList{}
	if err := k8s.List(context.Background(), overrides, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(overrides.Items) != 1 {
		t.Fatalf("%d overrides, want one", len(overrides.Items))
	}
	o := overrides.Items[0].Spec
	if o.ScheduleRef.Name != "primary" || o.Replace == nil || o.Replace.User != "alice" || o.Replace.With != "dave" || o.End.Sub(o.Start.Time) != 3*time.Hour {
		t.Errorf("the cover made %+v", o)
	}
}

// The Slack guide's app manifest points Slack at the surfaces the receiver
// serves, with the command and the scopes Klaxon uses.
func TestSlackGuideManifest(t *testing.T) {
	var manifest struct {
		Features struct {
			SlashCommands []struct {
				Command, URL string
			} `json:"slash_commands"`
		} `json:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `json:"is_enabled"`
				RequestURL string `json:"request_url"`
			} `json:"interactivity"`
		} `json:"settings"`
	}
	if err := yaml.Unmarshal([]byte(docsnippet.Block(t, "docs/slack.md", "slack-app-manifest")), &manifest); err != nil {
		t.Fatal(err)
	}
	// The receiver serves the path: an unsigned request is refused, not
	// unknown.
	base := slackReceiver(t, time.Now())
	served := map[string]bool{}
	for _, p := range []string{"/slack/commands", "/slack/interactions"} {
		resp, err := http.Post(base+p, "application/x-www-form-urlencoded", strings.NewReader("payload=%7B%7D"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		served[p] = resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed
	}
	path := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u.Path
	}
	cmds := manifest.Features.SlashCommands
	if len(cmds) != 1 || cmds[0].Command != "/klaxon" || !served[path(cmds[0].URL)] || path(cmds[0].URL) != "/slack/commands" {
		t.Errorf("slash commands %+v, want /klaxon at the receiver's /slack/commands", cmds)
	}
	if in := manifest.Settings.Interactivity; !in.IsEnabled || path(in.RequestURL) != "/slack/interactions" || !served[path(in.RequestURL)] {
		t.Errorf("interactivity %+v, want the receiver's /slack/interactions", in)
	}
	for _, scope := range []string{"channels:manage", "channels:read", "chat:write", "commands", "usergroups:write"} {
		if !slices.Contains(manifest.OAuthConfig.Scopes.Bot, scope) {
			t.Errorf("bot scopes %v lack %s", manifest.OAuthConfig.Scopes.Bot, scope)
		}
	}
}
