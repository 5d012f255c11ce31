package controller_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
)

const userGroup = "S0614TZR7"

// slackResponder creates a Responder whose contact on channel "slack" is
// the Slack user id; none when id is "".
func slackResponder(t *testing.T, ns, name, id string) {
	t.Helper()
	r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{DisplayName: name}}
	if id != "" {
		r.Spec.Contacts = []klaxonv1alpha1.Contact{{Name: "slack", Channel: "slack", Address: id}}
	}
	if err := k8s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// waitForUserGroup waits until Slack's group holds want and the schedule's
// SlackUserGroupSynced has status and reason and a message that says says,
// and returns the schedule.
func waitForUserGroup(t *testing.T, slack *slacktest.Server, sched *klaxonv1alpha1.OnCallSchedule, want []string,
	status metav1.ConditionStatus, reason, says string) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	got := &klaxonv1alpha1.OnCallSchedule{}
	defer func() {
		if t.Failed() {
			users, _ := slack.UserGroup(userGroup)
			t.Logf("group %v, calls %+v, status %+v", users, slack.Calls(""), got.Status)
		}
	}()
	eventually(t, "user group "+strings.Join(want, ",")+", SlackUserGroupSynced="+string(status)+" "+reason, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionSlackUserGroupSynced)
		users, _ := slack.UserGroup(userGroup)
		return slices.Equal(users, want) && c != nil && c.Status == status && c.Reason == reason && strings.Contains(c.Message, says), err
	})
	return got
}

// The guide's schedule keeps its Slack user group equal to whoever is on
// call: at creation, at a handoff, at an override's start and end; someone
// without a Slack contact is named and left out; a rate-limited update is
// retried; a reconcile that changes nothing calls nothing.
func TestSlackUserGroupFollowsOnCall(t *testing.T) {
	ctx := context.Background()
	slack := slacktest.Start(t, "")
	slack.AddUserGroup(userGroup, "U0FORMER")
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, "slack-app", true, map[string]string{"token": slacktest.Token})
	createChannel(t, ns, "slack", klaxonv1alpha1.NotificationChannelSpec{Slack: &klaxonv1alpha1.SlackChannel{
		TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "slack-app", Key: "token"}, APIURL: slack.URL}})
	slackResponder(t, ns, "alice", "U0ALICE")
	slackResponder(t, ns, "bob", "U0BOB")
	slackResponder(t, ns, "carol", "U0CAROL")
	slackResponder(t, ns, "dave", "")

	sched := &klaxonv1alpha1.OnCallSchedule{}
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, "docs/schedules-and-escalation.md", "slack-user-group")), sched); err != nil {
		t.Fatal(err)
	}
	// alice's week began an hour ago; bob's begins in a week.
	berlin, err := time.LoadLocation(sched.Spec.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	start := fakeClock.Now().Truncate(time.Hour).Add(-time.Hour)
	sched.Namespace = ns
	sched.Spec.Layers[0].Start = start.In(berlin).Format("2006-01-02T15:04:05")
	if err = k8s.Create(ctx, sched); err != nil {
		t.Fatal(err)
	}
	got := waitForUserGroup(t, slack, sched, []string{"U0ALICE"}, metav1.ConditionTrue, klaxonv1alpha1.ReasonUserGroupSynced, "U0ALICE")
	if s := got.Status.SlackUserGroup; s == nil || s.ID != userGroup || !slices.Equal(s.Users, []string{"U0ALICE"}) {
		t.Errorf("status.slackUserGroup = %+v", s)
	}
	calls := slack.Calls("usergroups.users.update")
	if len(calls) != 1 || calls[0].Args["usergroup"] != userGroup {
		t.Fatalf("calls = %+v, want one for %s", calls, userGroup)
	}

	// An override that starts next month changes status.overrides, not who
	// is on call: the reconcile that lists it calls nothing.
	createOverride(t, ns, "later", sched.Name, start.Add(30*24*time.Hour), start.Add(31*24*time.Hour),
		func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"carol"} })
	eventually(t, "the later override listed", func(ctx context.Context) (bool, error) {
		return len(got.Status.Overrides) == 1, k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
	})
	if n := len(slack.Calls("")); n != 1 {
		t.Errorf("Slack got %d calls after a reconcile that changed nobody, want 1", n)
	}

	// The handoff.
	fakeClock.Step(7*24*time.Hour + time.Minute)
	nudge(t, sched)
	waitForUserGroup(t, slack, sched, []string{"U0BOB"}, metav1.ConditionTrue, klaxonv1alpha1.ReasonUserGroupSynced, "U0BOB")

	// An override adding carol.
	now := fakeClock.Now()
	carol := createOverride(t, ns, "carol-helps", sched.Name, now.Add(-time.Minute), now.Add(time.Hour),
		func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"carol"} })
	waitForUserGroup(t, slack, sched, []string{"U0BOB", "U0CAROL"}, metav1.ConditionTrue, klaxonv1alpha1.ReasonUserGroupSynced, "U0BOB, U0CAROL")

	// dave has no Slack contact: named, and left out.
	dave := createOverride(t, ns, "dave-helps", sched.Name, now.Add(-time.Minute), now.Add(time.Hour),
		func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"dave"} })
	waitForUserGroup(t, slack, sched, []string{"U0BOB", "U0CAROL"}, metav1.ConditionFalse, klaxonv1alpha1.ReasonMissingSlackContact, "for dave,")
	if err = k8s.Delete(ctx, dave); err != nil {
		t.Fatal(err)
	}
	waitForUserGroup(t, slack, sched, []string{"U0BOB", "U0CAROL"}, metav1.ConditionTrue, klaxonv1alpha1.ReasonUserGroupSynced, "")
	before := len(slack.Calls("usergroups.users.update"))

	// Slack rate-limits the update that follows carol's override ending
	// early: it fails, is retried after the 7 seconds Slack asked (more than
	// the 5 of the backoff), and goes through.
	slack.RateLimit(1, 7*time.Second)
	if err = k8s.Delete(ctx, carol); err != nil {
		t.Fatal(err)
	}
	waitForUserGroup(t, slack, sched, []string{"U0BOB"}, metav1.ConditionTrue, klaxonv1alpha1.ReasonUserGroupSynced, "U0BOB")
	calls = slack.Calls("usergroups.users.update")[before:]
	if len(calls) != 2 || calls[0].Answer != "ratelimited" || calls[1].Answer != "" || calls[1].Args["users"] != "U0BOB" {
		t.Fatalf("calls after the rate limit = %+v, want one ratelimited, then one setting U0BOB", calls)
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < 7*time.Second-100*time.Millisecond {
		t.Errorf("the update was retried %s after the rate limit, want at least the 7s Slack asked", gap)
	}
}

// A schedule whose user group names a channel that does not exist says so.
func TestSlackUserGroupChannelNotFound(t *testing.T) {
	ns := newNamespace(t)
	sched := &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "rotation", Participants: []string{"alice"}, Start: "2026-01-01T00:00:00",
			Shift: metav1.Duration{Duration: 24 * time.Hour}}},
			SlackUserGroup: &klaxonv1alpha1.SlackUserGroup{Channel: "nowhere", ID: userGroup}},
	}
	if err := k8s.Create(context.Background(), sched); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SlackUserGroupSynced=False ChannelNotFound", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), sched)
		c := meta.FindStatusCondition(sched.Status.Conditions, klaxonv1alpha1.ConditionSlackUserGroupSynced)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == klaxonv1alpha1.ReasonChannelNotFound &&
			strings.Contains(c.Message, "NotificationChannel nowhere not found"), err
	})
}

// The API server refuses a user group without a channel or with an ID
// that is not Slack's.
func TestSlackUserGroupIsValidated(t *testing.T) {
	ns := newNamespace(t)
	for name, tc := range map[string]struct {
		group klaxonv1alpha1.SlackUserGroup
		says  string
	}{
		"no channel":       {klaxonv1alpha1.SlackUserGroup{ID: userGroup}, "spec.slackUserGroup.channel"},
		"lower-case id":    {klaxonv1alpha1.SlackUserGroup{Channel: "slack", ID: "s0614tzr7"}, "spec.slackUserGroup.id"},
		"a channel id":     {klaxonv1alpha1.SlackUserGroup{Channel: "slack", ID: "C0614TZR7"}, "spec.slackUserGroup.id"},
		"an id too long":   {klaxonv1alpha1.SlackUserGroup{Channel: "slack", ID: "S" + strings.Repeat("A", 40)}, "spec.slackUserGroup.id"},
		"no id":            {klaxonv1alpha1.SlackUserGroup{Channel: "slack"}, "spec.slackUserGroup.id"},
		"valid (accepted)": {klaxonv1alpha1.SlackUserGroup{Channel: "slack", ID: userGroup}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			group := tc.group
			sched := &klaxonv1alpha1.OnCallSchedule{
				ObjectMeta: metav1.ObjectMeta{Name: strings.ReplaceAll(strings.NewReplacer("(", "", ")", "").Replace(name), " ", "-"), Namespace: ns},
				Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
					Name: "rotation", Participants: []string{"alice"}, Start: "2026-01-01T00:00:00",
					Shift: metav1.Duration{Duration: 24 * time.Hour}}}, SlackUserGroup: &group},
			}
			err := k8s.Create(context.Background(), sched)
			switch {
			case tc.says == "" && err != nil:
				t.Errorf("got %v, want it accepted", err)
			case tc.says != "" && (!apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says)):
				t.Errorf("got %v, want Invalid naming %s", err, tc.says)
			}
		})
	}
}
