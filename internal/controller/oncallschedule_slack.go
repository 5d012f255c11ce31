package controller

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// A failed user group update is retried after the time it has been failing
// for, within these bounds: a backoff that needs no count stored.
const (
	userGroupRetryFloor   = 5 * time.Second
	userGroupRetryCeiling = 10 * time.Minute
	// userGroupChannelRecheck is when a schedule whose channel is missing
	// or not a slack one looks again: channels are not watched for it.
	userGroupChannelRecheck = time.Minute
	// maxSlackErrorChars bounds Slack's error in the condition message.
	maxSlackErrorChars = 300
)

// +kubebuilder:rbac:groups=klaxon.dev,resources=notificationchannels;responders,verbs=get;list;watch

// reconcileSlackUserGroup keeps spec.slackUserGroup's Slack user group
// equal to the Slack IDs of whoever status.onCall holds. Slack is called
// only when those differ from the IDs last set (status.slackUserGroup).
func (r *OnCallScheduleReconciler) reconcileSlackUserGroup(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule]) (ctrl.Result, error) {
	spec, st := s.obj.Spec.SlackUserGroup, &s.obj.Status
	if spec == nil {
		st.SlackUserGroup = nil
		conds := s.obj.GetConditions()
		if meta.RemoveStatusCondition(&conds, klaxonv1alpha1.ConditionSlackUserGroupSynced) {
			s.obj.SetConditions(conds)
		}
		return ctrl.Result{}, nil
	}
	ch := &klaxonv1alpha1.NotificationChannel{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: s.obj.Namespace, Name: spec.Channel}, ch)
	switch {
	case apierrors.IsNotFound(err):
		return r.reportUserGroup(ctx, s, waitingFor(klaxonv1alpha1.ReasonChannelNotFound, fmt.Sprintf(
			"NotificationChannel %s not found in namespace %s: create it, a slack one", spec.Channel, s.obj.Namespace), userGroupChannelRecheck)), nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading NotificationChannel %s: %w", spec.Channel, err)
	case ch.Spec.Slack == nil:
		return r.reportUserGroup(ctx, s, waitingFor(klaxonv1alpha1.ReasonNotSlack, fmt.Sprintf(
			"NotificationChannel %s is not a slack channel: name one with spec.slack", spec.Channel), userGroupChannelRecheck)), nil
	}
	responders, err := respondersOf(ctx, r.client, s.obj.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	ids, missing := slackIDsOf(st.OnCall, responders, spec.Channel)
	missed := missingContact(st.OnCall, missing, spec.Channel)
	if len(ids) == 0 {
		// Slack cannot empty a group: it keeps whoever it had.
		return r.reportUserGroup(ctx, s, missed), nil
	}
	if userGroupSet(st.SlackUserGroup, spec.ID, ids) {
		return r.reportUserGroup(ctx, s, missed), nil
	}
	// The cache may not have this reconciler's last write yet: the API
	// server says whether the group was already set.
	live := &klaxonv1alpha1.OnCallSchedule{}
	if err = r.apiReader.Get(ctx, client.ObjectKeyFromObject(s.obj), live); err != nil {
		return ctrl.Result{}, fmt.Errorf("reading OnCallSchedule %s from the API server: %w", s.obj.Name, err)
	}
	if live.UID == s.obj.UID && userGroupSet(live.Status.SlackUserGroup, spec.ID, ids) {
		st.SlackUserGroup = live.Status.SlackUserGroup.DeepCopy()
		return r.reportUserGroup(ctx, s, missed), nil
	}
	if wait := r.slackWaits.wait(client.ObjectKeyFromObject(ch)); wait > 0 {
		// Slack asked the app to wait: the condition keeps saying why.
		msg := "Slack asked to wait before the next update"
		if c := meta.FindStatusCondition(s.obj.Status.Conditions, klaxonv1alpha1.ConditionSlackUserGroupSynced); c != nil && c.Reason == klaxonv1alpha1.ReasonSlackError {
			msg = c.Message
		}
		return r.reportUserGroup(ctx, s, waitingFor(klaxonv1alpha1.ReasonSlackError, msg, wait)), nil
	}
	if p := r.updateUserGroup(ctx, ch, spec.ID, ids); p != nil {
		// Slack's Retry-After, when it said one, else the backoff.
		if p.retryAfter == 0 {
			p.retryAfter = userGroupRetry(s)
		}
		return r.reportUserGroup(ctx, s, p), nil
	}
	st.SlackUserGroup = &klaxonv1alpha1.SlackUserGroupStatus{ID: spec.ID, Users: ids, SyncedAt: metav1.NewTime(s.now)}
	return r.reportUserGroup(ctx, s, missed), nil
}

// userGroupSet reports whether last says the group was set to ids.
func userGroupSet(last *klaxonv1alpha1.SlackUserGroupStatus, groupID string, ids []string) bool {
	return last != nil && last.ID == groupID && slices.Equal(last.Users, ids)
}

// updateUserGroup sets the group through the channel's Slack app; a
// problem (SlackError) when that fails.
func (r *OnCallScheduleReconciler) updateUserGroup(ctx context.Context, ch *klaxonv1alpha1.NotificationChannel, groupID string, ids []string) *problem {
	loader := &channelLoader{secretReader: r.apiReader, egress: r.egress}
	sender, p, err := loader.load(ctx, ch)
	if err == nil && p != nil {
		err = errors.New(p.message)
	}
	if err != nil {
		return waitingFor(klaxonv1alpha1.ReasonSlackError, bounded.Runes(fmt.Sprintf(
			"NotificationChannel %s cannot call Slack: %s", ch.Name, err.Error()), maxSlackErrorChars), 0)
	}
	slack, ok := sender.(*notify.Slack)
	if !ok {
		return waitingFor(klaxonv1alpha1.ReasonNotSlack, fmt.Sprintf("NotificationChannel %s is not a slack channel", ch.Name), 0)
	}
	if err = slack.UpdateUserGroup(ctx, groupID, ids); err != nil {
		after, _ := r.slackWaits.record(client.ObjectKeyFromObject(ch), err)
		return waitingFor(klaxonv1alpha1.ReasonSlackError, "Setting user group "+groupID+": "+
			bounded.Runes(notify.OneLine(err.Error()), maxSlackErrorChars), after)
	}
	return nil
}

// userGroupRetry is when a failed update is tried again: after as long as
// it has been failing, at least userGroupRetryFloor and at most
// userGroupRetryCeiling.
func userGroupRetry(s *scope[*klaxonv1alpha1.OnCallSchedule]) time.Duration {
	c := meta.FindStatusCondition(s.obj.Status.Conditions, klaxonv1alpha1.ConditionSlackUserGroupSynced)
	if c == nil || c.Reason != klaxonv1alpha1.ReasonSlackError {
		return userGroupRetryFloor
	}
	return min(max(s.now.Sub(c.LastTransitionTime.Time), userGroupRetryFloor), userGroupRetryCeiling)
}

// reportUserGroup sets SlackUserGroupSynced: True without a problem.
func (r *OnCallScheduleReconciler) reportUserGroup(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule], p *problem) ctrl.Result {
	msg := "The user group holds whoever is on call"
	if last := s.obj.Status.SlackUserGroup; last != nil {
		msg = fmt.Sprintf("User group %s holds %s", last.ID, namesMessage(last.Users))
	}
	return report(ctx, s, klaxonv1alpha1.ConditionSlackUserGroupSynced, p, klaxonv1alpha1.ReasonUserGroupSynced, msg, "SyncUserGroup")
}

// slackUserID is the shape of a Slack user ID, within status's bound; a
// contact addressed to a Slack channel (C…) names no member of a group.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{1,63}$`)

// slackIDsOf returns the Slack IDs of the people on call, sorted and
// without repeats: the address of each one's contact on channel; and who
// has none.
func slackIDsOf(onCall []string, responders map[string]*klaxonv1alpha1.ResponderSpec, channel string) (ids, missing []string) {
	for _, user := range onCall {
		id := ""
		if spec := responders[user]; spec != nil {
			for _, c := range spec.Contacts {
				if c.Channel == channel && slackUserID.MatchString(c.Address) {
					id = c.Address
					break
				}
			}
		}
		if id == "" {
			missing = append(missing, user)
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), missing
}

// missingContact is the problem of people on call without a contact on
// channel addressed to a Slack user ID, or of nobody on call; nil when everyone has one.
func missingContact(onCall, missing []string, channel string) *problem {
	switch {
	case len(onCall) == 0:
		return waitingFor(klaxonv1alpha1.ReasonMissingSlackContact,
			"Nobody is on call; Slack cannot empty a user group, so it is left as it is", 0)
	case len(missing) == 0:
		return nil
	case len(missing) == len(onCall):
		return waitingFor(klaxonv1alpha1.ReasonMissingSlackContact, fmt.Sprintf(
			"Nobody on call has a Slack user ID (a contact on channel %s) (%s); the user group is left as it is: give their Responders one",
			channel, namesMessage(missing)), 0)
	}
	return waitingFor(klaxonv1alpha1.ReasonMissingSlackContact, fmt.Sprintf(
		"No Slack user ID (a contact on channel %s) for %s, on call but left out of the user group: give their Responders one",
		channel, namesMessage(missing)), 0)
}

// namesMessage lists at most maxNamesInMessage names.
func namesMessage(names []string) string {
	shown := names[:min(len(names), maxNamesInMessage)]
	msg := strings.Join(shown, ", ")
	if more := len(names) - len(shown); more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	return msg
}
