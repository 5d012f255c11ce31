package controller_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// incidentChannelFixture is the paging fixture with the guide's Slack app,
// which opens a channel for SEV1 and SEV2 incidents and archives it an hour
// after the close, and Slack contacts for alice and bob.
func incidentChannelFixture(t *testing.T) (string, *slacktest.Server) {
	t.Helper()
	ctx := context.Background()
	slack := slacktest.Start(t, "")
	slack.SetClock(fakeClock.Now)
	ns := pagingFixture(t)
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, "slack-app", true, map[string]string{"token": slacktest.Token, "signing-secret": "guide-signing-secret"})
	// The guide's channel, at the stand-in's address.
	ch := &klaxonv1alpha1.NotificationChannel{}
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, "docs/slack.md", "incident-channels")), ch); err != nil {
		t.Fatal(err)
	}
	ch.Spec.Slack.APIURL = slack.URL
	createChannel(t, ns, ch.Name, ch.Spec)
	slackResponder(t, ns, "alice", "U0ALICE")
	slackResponder(t, ns, "bob", "U0BOB")
	slackResponder(t, ns, "carol", "U0CAROL")
	return ns, slack
}

// waitForChannel waits until the incident's status.slackChannel holds.
func waitForChannel(t *testing.T, slack *slacktest.Server, inc *klaxonv1alpha1.Incident, what string,
	cond func(*klaxonv1alpha1.IncidentSlackChannel) bool) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	defer func() {
		if t.Failed() {
			t.Logf("status.slackChannel %+v, calls %+v", got.Status.SlackChannel, slack.Calls(""))
		}
	}()
	eventually(t, what, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got)
		return err == nil && got.Status.SlackChannel != nil && cond(got.Status.SlackChannel), err
	})
	return got
}

// posts are the texts posted to channel.
func posts(slack *slacktest.Server, channel string) []string {
	var out []string
	for _, c := range slack.Calls("chat.postMessage") {
		if c.Args["channel"] == channel && c.Answer == "" {
			out = append(out, c.Args["text"])
		}
	}
	return out
}

func posted(slack *slacktest.Server, channel, text string) bool {
	return slices.ContainsFunc(posts(slack, channel), func(p string) bool { return strings.Contains(p, text) })
}

// A SEV2 incident gets a channel named after it, with the people paged and
// the commander invited, the page and each move and update posted, the
// topic following severity, phase and commander, and the channel archived
// an hour after the close. A SEV3 incident gets none. A rate-limited call
// waits as long as Slack said.
func TestIncidentChannelFollowsTheIncident(t *testing.T) {
	ctx := context.Background()
	ns, slack := incidentChannelFixture(t)
	quiet := createIncident(t, k8s, ns, "minor", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityModerate
	})
	inc := createIncident(t, k8s, ns, "checkout.latency", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityHigh
		i.Spec.Commander = "bob"
		i.Spec.Responders = []klaxonv1alpha1.IncidentResponder{{Name: "carol"}}
	})
	got := waitForChannel(t, slack, inc, "the channel made, people invited, the page posted", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return sc.ID != "" && sc.PageRef != "" && sc.Posted > 0 && slices.Equal(sc.Invited, []string{"U0ALICE", "U0BOB", "U0CAROL"})
	})
	sc := got.Status.SlackChannel
	name, topic, members, archived, ok := slack.Conversation(sc.ID)
	if !ok || name != "inc-checkout-latency" || sc.Name != name || sc.NotificationChannel != "slack" || archived {
		t.Fatalf("channel %s: name %q (status %q), archived %v, exists %v", sc.ID, name, sc.Name, archived, ok)
	}
	slices.Sort(members)
	if !slices.Equal(members, []string{"U0ALICE", "U0BOB", "U0CAROL"}) {
		t.Errorf("members = %v, want the Slack users of alice (paged), bob (commander) and carol (added)", members)
	}
	if want := "SEV2 · Triggered · Commander: bob"; topic != want || sc.Topic != want {
		t.Errorf("topic = %q (status %q), want %q", topic, sc.Topic, want)
	}
	if !posted(slack, sc.ID, "Checkout p99 latency above 2s") || !posted(slack, sc.ID, "Triggered") {
		t.Errorf("posts = %q, want the page and the trigger", posts(slack, sc.ID))
	}
	eventually(t, "the SlackChannelCreated Event", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		return slices.ContainsFunc(evs, func(e eventsv1.Event) bool {
			return e.Reason == klaxonv1alpha1.EventSlackChannelCreated && strings.Contains(e.Note, "#inc-checkout-latency")
		}), err
	})

	// Slack limits the app: the next call waits the two seconds it asked.
	slack.RateLimit(1, 2*time.Second)
	mustSetState(t, k8s, inc, A)
	waitForChannel(t, slack, inc, "the topic to say Acknowledged", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return strings.HasPrefix(sc.Topic, "SEV2 · Acknowledged") && sc.Error == ""
	})
	calls := slack.Calls("")
	limited := slices.IndexFunc(calls, func(c slacktest.Call) bool { return c.Answer == "ratelimited" })
	if limited < 0 || limited == len(calls)-1 {
		t.Fatalf("no call was rate limited, or none came after: %+v", calls)
	}
	if gap := calls[limited+1].At.Sub(calls[limited].At); gap < 2*time.Second-100*time.Millisecond {
		t.Errorf("the call after the rate-limited one came %s later, want at least 2s", gap)
	}
	eventually(t, "the acknowledgement posted", func(context.Context) (bool, error) {
		return posted(slack, sc.ID, "Acknowledged"), nil
	})

	// An update and the close are posted too. The operator writes the
	// incident's status meanwhile: read again on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return err
		}
		got.Spec.Updates = append(got.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{
			Time: metav1.NewTime(fakeClock.Now().Truncate(time.Second)), Author: "bob", Message: "Rolled back the release"})
		return k8s.Update(ctx, got)
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the update posted", func(context.Context) (bool, error) {
		return posted(slack, sc.ID, "Rolled back the release"), nil
	})
	// Resolved, it comes back: a new page whose buttons act on the new
	// episode.
	mustSetState(t, k8s, inc, R)
	waitForPhase(t, inc, R, 1)
	mustSetState(t, k8s, inc, T)
	waitForChannel(t, slack, inc, "a page for the second episode", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return sc.PageEpisode == 2
	})
	if n := len(slices.DeleteFunc(slack.Calls("chat.postMessage"), func(c slacktest.Call) bool {
		return c.Args["channel"] != sc.ID || !strings.Contains(c.Args["blocks"], "klaxon_facts")
	})); n != 2 {
		t.Errorf("%d pages posted in the channel, want one per episode: 2", n)
	}
	mustSetState(t, k8s, inc, R)
	mustSetState(t, k8s, inc, C, func(i *klaxonv1alpha1.Incident) {
		i.Spec.Postmortem = &klaxonv1alpha1.Postmortem{URL: "https://wiki.example.com/postmortems/checkout"}
	})
	waitForChannel(t, slack, inc, "the close posted", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return strings.HasPrefix(sc.Topic, "SEV2 · Closed") && sc.ArchivedAt == nil
	})
	eventually(t, "the close posted", func(context.Context) (bool, error) { return posted(slack, sc.ID, "Closed"), nil })
	if _, _, _, archived, _ = slack.Conversation(sc.ID); archived {
		t.Fatal("the channel was archived at the close, want an hour later")
	}

	// An hour after the close it is archived.
	fakeClock.Step(61 * time.Minute)
	nudge(t, inc)
	waitForChannel(t, slack, inc, "the channel archived", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool { return sc.ArchivedAt != nil })
	if _, _, _, archived, _ = slack.Conversation(sc.ID); !archived {
		t.Error("status says archived, Slack does not")
	}

	// The SEV3 incident, reconciled all along, has no channel.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(quiet), quiet); err != nil {
		t.Fatal(err)
	}
	if quiet.Status.SlackChannel != nil {
		t.Errorf("the SEV3 incident has a channel: %+v", quiet.Status.SlackChannel)
	}
	for _, c := range slack.Calls("conversations.create") {
		if strings.Contains(c.Args["name"], "minor") {
			t.Errorf("a channel was asked for the SEV3 incident: %v", c.Args)
		}
	}
}

// A create whose answer the operator never hears, because it stopped,
// leaves a name without an ID; the operator that starts again finds the
// channel made and makes no other. A name someone else took moves on to
// the next.
func TestIncidentChannelMadeOnceAcrossARestart(t *testing.T) {
	ns, slack := incidentChannelFixture(t)
	other := slack.AddConversation("inc-collide", "U0SOMEONE")
	release := slack.HoldCreates()
	t.Cleanup(release)
	defer func() {
		if t.Failed() {
			t.Logf("calls %+v", slack.Calls(""))
		}
	}()
	inc := createIncident(t, k8s, ns, "collide", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
	})
	// The first name is taken by someone else's channel; the second is made,
	// and its answer held.
	eventually(t, "a channel made for the second name", func(context.Context) (bool, error) {
		return slices.ContainsFunc(slack.Calls("conversations.create"), func(c slacktest.Call) bool {
			return c.Args["name"] == "inc-collide-2"
		}), nil
	})
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	release()
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	nudge(t, inc)
	got := waitForChannel(t, slack, inc, "the channel found and kept", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return sc.ID != "" && sc.PageRef != ""
	})
	sc := got.Status.SlackChannel
	if sc.Name != "inc-collide-2" || sc.ID == other {
		t.Errorf("status.slackChannel = %+v, want inc-collide-2, not someone else's %s", sc, other)
	}
	made := 0
	for _, c := range slack.Calls("conversations.create") {
		if c.Answer == "" {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d channels made, want 1: %+v", made, slack.Calls("conversations.create"))
	}
	if name, _, _, _, ok := slack.Conversation(sc.ID); !ok || name != "inc-collide-2" {
		t.Errorf("channel %s is %q in Slack", sc.ID, name)
	}

	// Two incidents whose names make one channel name get a channel each:
	// the second does not take the first's, which its bot made just before.
	first := createIncident(t, k8s, ns, "db.down", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
	})
	a := waitForChannel(t, slack, first, "db.down's channel", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool { return sc.ID != "" })
	second := createIncident(t, k8s, ns, "db-down", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
	})
	b := waitForChannel(t, slack, second, "db-down's channel", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool { return sc.ID != "" })
	if a.Status.SlackChannel.ID == b.Status.SlackChannel.ID || a.Status.SlackChannel.Name != "inc-db-down" || b.Status.SlackChannel.Name != "inc-db-down-2" {
		t.Errorf("db.down has %+v, db-down %+v; want channels of their own, inc-db-down and inc-db-down-2", a.Status.SlackChannel, b.Status.SlackChannel)
	}
}

// Someone Slack will not invite is reported and skipped, not retried
// forever in the way of the posts; a channel archived in Slack by someone
// is left alone.
func TestIncidentChannelRefusalsDoNotStopIt(t *testing.T) {
	ns, slack := incidentChannelFixture(t)
	slack.Fail("conversations.invite", "user_not_found")
	inc := createIncident(t, k8s, ns, "refused", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
		i.Spec.Commander = "bob"
	})
	got := waitForChannel(t, slack, inc, "the page posted past the refused invitation", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return sc.PageRef != "" && len(sc.Invited) == 2 && sc.Error == ""
	})
	id := got.Status.SlackChannel.ID
	if _, _, members, _, _ := slack.Conversation(id); len(members) != 1 {
		t.Errorf("members = %v, want the one invitation Slack took", members)
	}
	if n := len(slack.Calls("conversations.invite")); n != 2 {
		t.Errorf("%d invitations asked, want 2: the refused one is not asked again", n)
	}
	eventually(t, "a SlackChannelFailed Event about the invitation", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		return slices.ContainsFunc(evs, func(e eventsv1.Event) bool {
			return e.Reason == klaxonv1alpha1.EventSlackChannelFailed && strings.Contains(e.Note, "user_not_found")
		}), err
	})

	// Someone archives the channel in Slack; the next post finds it so.
	c, err := notify.NewSlackClient(notify.SlackConfig{APIURL: slack.URL, Token: slacktest.Token, Egress: suite.LoopbackPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if err = c.ArchiveConversation(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	mustSetState(t, k8s, inc, A)
	waitForChannel(t, slack, inc, "the channel taken as archived", func(sc *klaxonv1alpha1.IncidentSlackChannel) bool {
		return sc.ArchivedAt != nil && sc.Error == ""
	})
	calls := len(slack.Calls(""))
	mustSetState(t, k8s, inc, R)
	waitForPhase(t, inc, R, 1)
	time.Sleep(time.Second)
	if n := len(slack.Calls("")); n != calls {
		t.Errorf("%d calls to Slack after the channel was archived, want none", n-calls)
	}
}
