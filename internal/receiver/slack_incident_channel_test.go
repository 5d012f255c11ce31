package receiver_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
)

// From Slack alone: an incident declared with /klaxon gets its own channel
// from the operator, with the declarer invited as its commander, and ack,
// update and resolve typed there act on it as the caller's Responder: the
// timeline kubectl describe shows names ada, and each step is posted in
// the channel.
func TestSlackDeclareThenRunTheIncidentFromItsChannel(t *testing.T) {
	ns := newNamespace(t)
	slack := slacktest.Start(t, slackBotToken)
	secret := commandFixture(t, ns, func(app *klaxonv1alpha1.SlackChannel) {
		app.APIURL = slack.URL
		app.IncidentChannels = &klaxonv1alpha1.SlackIncidentChannels{Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityHigh}}
	})
	now := time.Now()
	base := slackReceiver(t, now)

	if a := postCommand(t, base, slashCommand(slackUser, `declare "Payments API down" --sev SEV2`), secret, now); a.Code != http.StatusOK ||
		!strings.Contains(a.Text, "ada declared incident") {
		t.Fatalf("declare: %+v", a)
	}
	list := incidents(t, ns)
	if len(list) != 1 {
		t.Fatalf("%d incidents declared, want 1", len(list))
	}
	inc := &list[0]

	// The operator makes the incident's channel and posts the page there;
	// the receiver's cache sees it.
	got := &klaxonv1alpha1.Incident{}
	eventually(t, "the incident's Slack channel", func(ctx context.Context) (bool, error) {
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), got)
		sc := got.Status.SlackChannel
		return err == nil && sc != nil && sc.ID != "" && sc.PageRef != "", nil
	})
	channel := got.Status.SlackChannel.ID
	if name, _, _, _, ok := slack.Conversation(channel); !ok || name != "inc-"+inc.Name {
		t.Fatalf("channel %s is %q in Slack, want inc-%s", channel, name, inc.Name)
	}
	// Nobody is paged (the incident names no policy), but ada declared it
	// and leads it: she is invited, and the topic says so.
	eventually(t, "ada invited, and the topic naming her", func(context.Context) (bool, error) {
		_, topic, members, _, _ := slack.Conversation(channel)
		return slices.Contains(members, slackUser) && strings.HasSuffix(topic, "Commander: ada"), nil
	})
	here := func(text string) []byte {
		return slashCommandIn(channel, "https://hooks.slack.com/commands/T0TEAM/3/abc", slackUser, text)
	}
	postedThere := func(what, text string) {
		t.Helper()
		eventually(t, what+" posted in the channel", func(context.Context) (bool, error) {
			return slices.ContainsFunc(slack.Calls("chat.postMessage"), func(c slacktest.Call) bool {
				return c.Args["channel"] == channel && strings.Contains(c.Args["text"], text)
			}), nil
		})
	}

	if a := postCommand(t, base, here("ack"), secret, now); !strings.Contains(a.Text, "ada acknowledged incident "+ns+"/"+inc.Name) {
		t.Fatalf("ack in the channel: %+v", a)
	}
	waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	postedThere("the acknowledgement", "Acknowledged by ada")

	if a := postCommand(t, base, here("update Failed over to the standby database"), secret, now); !strings.Contains(a.Text, "ada posted an update") {
		t.Fatalf("update in the channel: %+v", a)
	}
	postedThere("the update", "Failed over to the standby database")

	if a := postCommand(t, base, here("resolve"), secret, now); !strings.Contains(a.Text, "ada resolved incident "+ns+"/"+inc.Name) {
		t.Fatalf("resolve in the channel: %+v", a)
	}
	resolved := waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	postedThere("the resolution", "Resolved by ada")

	// What kubectl describe shows: each step by ada.
	for _, typ := range []string{klaxonv1alpha1.TimelineAcknowledged, klaxonv1alpha1.TimelineUpdate, klaxonv1alpha1.TimelineResolved} {
		if !slices.ContainsFunc(resolved.Status.Timeline, func(e klaxonv1alpha1.TimelineEntry) bool { return e.Type == typ && e.Actor == "ada" }) {
			t.Errorf("no %s entry by ada in the timeline: %+v", typ, resolved.Status.Timeline)
		}
	}
	if resolved.Status.AcknowledgedBy != "ada" {
		t.Errorf("acknowledgedBy %q, want ada", resolved.Status.AcknowledgedBy)
	}
}
