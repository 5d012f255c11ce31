package fault

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
)

const (
	// coverSigning is the signing secret of the Slack app of the cover test.
	coverSigning = "signing-secret-of-the-cover-app-0123"
	// coverSlackDave is dave's Slack user: the caller of the command.
	coverSlackDave = "U0DAVE"
)

// TestSlackCover sends the operator's receiver a signed `/klaxon cover`
// from a responder's Slack user, as Slack posts it: the operator, with the
// RBAC it ships, creates the OnCallOverride the caller asked for, the
// schedule puts the cover on call, and the same request replayed creates
// nothing more.
func TestSlackCover(t *testing.T) {
	slack := slacktest.Start(t, "")
	ns := tenantNamespace(t, "fault-cover-")
	start := time.Now().Add(-time.Hour).UTC()
	tenantCreate(t, slackApp(ns, coverSigning, slack.URL)...)
	tenantCreate(t,
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{{Name: "slack", Channel: "slack", Address: "U0ALICE"}}}},
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "dave", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{{Name: "slack", Channel: "slack", Address: coverSlackDave}}}},
		&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "primary", Namespace: ns},
			Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
				Name: "primary", Participants: []string{"alice"},
				Start: start.Format("2006-01-02T15:04:05"), Shift: metav1.Duration{Duration: 24 * time.Hour},
			}}}},
	)
	op := startOperator(t, "cover", "--watch-namespaces="+ns)
	sched := &klaxonv1alpha1.OnCallSchedule{}
	onCall := func(who string) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "primary"}, sched)
			return slices.Equal(sched.Status.OnCall, []string{who}), err
		}
	}
	eventually(t, "alice to be on call", 30*time.Second, onCall("alice"))
	// The receiver answers from the operator's cache: once it says alice
	// is on call, it knows the channel, dave and the schedule.
	eventually(t, "the receiver to know dave and the schedule", 30*time.Second, func(context.Context) (bool, error) {
		code, a := coverPost(t, op.receiverURL, coverSigning, time.Now(), coverCommand(coverSlackDave, "oncall primary"))
		return code == http.StatusOK && a.Text == "On call now in "+ns+":\nprimary: alice", nil
	})

	body := coverCommand(coverSlackDave, "cover alice dave --for 3h")
	at := time.Now()
	code, a := coverPost(t, op.receiverURL, coverSigning, at, body)
	if want := "dave made dave cover alice on primary for 3h0m0s (OnCallOverride " + ns + "/primary-cover-"; code != http.StatusOK ||
		a.ResponseType != "in_channel" || !strings.HasPrefix(a.Text, want) {
		t.Fatalf("cover answered %d %+v, want 200 in_channel starting %q", code, a, want)
	}
	overrides := coverOverrides(t, ns)
	if len(overrides) != 1 {
		t.Fatalf("the cover made %d OnCallOverrides, want 1", len(overrides))
	}
	o := overrides[0]
	if !strings.HasSuffix(a.Text, "/"+o.Name+")") {
		t.Errorf("the answer %q names another override than %s", a.Text, o.Name)
	}
	spec := o.Spec
	if spec.ScheduleRef.Name != "primary" || spec.Replace == nil || spec.Replace.User != "alice" || spec.Replace.With != "dave" || spec.Add != nil {
		t.Errorf("the cover made %+v, want primary, replace alice with dave", spec)
	}
	if got := spec.End.Sub(spec.Start.Time); got != 3*time.Hour {
		t.Errorf("the cover lasts %s, want 3h", got)
	}
	// It starts when the receiver took the command, to the second.
	if d := spec.Start.Sub(at); d < -2*time.Second || d > 10*time.Second {
		t.Errorf("the cover starts at %s, %s from the command", spec.Start.UTC().Format(time.RFC3339), d)
	}

	// The operator takes it in: the override is Ready, in force, and the
	// schedule has dave on call in alice's place.
	eventually(t, "the override to be Ready and in force", 30*time.Second, func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.OnCallOverride{}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&o), got)
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == klaxonv1alpha1.ReasonInForce, err
	})
	eventually(t, "dave to be on call in alice's place", 30*time.Second, onCall("dave"))
	if len(sched.Status.Overrides) != 1 || sched.Status.Overrides[0].Name != o.Name || sched.Status.Overrides[0].State != klaxonv1alpha1.OverrideInForceNow ||
		sched.Status.Overrides[0].Change != "replace alice with dave" {
		t.Errorf("the schedule lists the overrides %+v, want %s in force, replace alice with dave", sched.Status.Overrides, o.Name)
	}

	// Slack retries a command it got no answer to; anyone who saw the
	// request may send it again. Either way it is the same request, and
	// the cover is not made twice.
	code, a = coverPost(t, op.receiverURL, coverSigning, at, body)
	if code != http.StatusOK || a.Text != "This cover is already made. Nothing was changed." {
		t.Errorf("the replayed cover answered %d %+v, want 200 saying it is already made", code, a)
	}
	if after := coverOverrides(t, ns); len(after) != 1 || after[0].Name != o.Name || after[0].Generation != o.Generation {
		t.Errorf("after the replay namespace %s holds %d OnCallOverrides, want only %s unchanged", ns, len(after), o.Name)
	}
	if !op.running() {
		t.Errorf("the operator exited")
	}
}

// coverAnswer is the JSON a 200 answer to a command carries.
type coverAnswer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// coverCommand is the form Slack posts for `/klaxon text` by user.
func coverCommand(user, text string) []byte {
	return []byte(url.Values{
		"token": {"deprecated-verification-token"}, "team_id": {"T0TEAM"}, "team_domain": {"example"},
		"channel_id": {"C0ONCALL"}, "channel_name": {"oncall"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/klaxon"}, "text": {text}, "api_app_id": {"A0KLAXON"},
		"response_url": {"https://hooks.slack.com/commands/T0TEAM/1/abc"}, "trigger_id": {"1700000001.1.abc"},
	}.Encode())
}

// slackSigned is the headers Slack sends with body at ts, signed with
// secret: X-Slack-Signature is "v0=" and the hex HMAC-SHA256 of
// "v0:<ts>:<body>".
func slackSigned(secret string, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = mac.Write([]byte("v0:" + stamp + ":"))
	_, _ = mac.Write(body)
	return http.Header{
		"Content-Type":              {"application/x-www-form-urlencoded"},
		"X-Slack-Request-Timestamp": {stamp},
		"X-Slack-Signature":         {"v0=" + hex.EncodeToString(mac.Sum(nil))},
	}
}

// coverPost posts a command signed with secret at ts and returns the code
// and, for a 200, the answer Slack shows; otherwise the text as Text.
func coverPost(t *testing.T, base, secret string, ts time.Time, body []byte) (int, coverAnswer) {
	t.Helper()
	code, raw := tenantRequest(t, http.MethodPost, base+"/slack/commands", body, slackSigned(secret, ts, body))
	var a coverAnswer
	if code != http.StatusOK {
		return code, coverAnswer{Text: raw}
	}
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatalf("the answer %q is not Slack's JSON: %v", raw, err)
	}
	return code, a
}

// coverOverrides lists the OnCallOverrides of ns.
func coverOverrides(t *testing.T, ns string) []klaxonv1alpha1.OnCallOverride {
	t.Helper()
	list := &klaxonv1alpha1.OnCallOverrideList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// slackApp is a Slack NotificationChannel "slack" whose app signs with
// signing and calls the Web API at apiURL, and the labelled Secret of its
// token and signing secret.
func slackApp(ns, signing, apiURL string) []client.Object {
	return []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-app", Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
			StringData: map[string]string{"token": slacktest.Token, "signing-secret": signing}},
		&klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: "slack", Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
				TokenSecretRef:   klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "token"},
				SigningSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "signing-secret"},
				APIURL:           apiURL,
			}}},
	}
}
