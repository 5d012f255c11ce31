package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/slackchannel"
)

const (
	// incidentChannelWorkers is how many incidents' Slack channels are kept
	// at once. Each reconcile waits on Slack: apart from the incident
	// controller, so a slow Slack never holds up paging.
	incidentChannelWorkers = 2
	// Retries of a failed Slack call: a refusal (missing scope, channel
	// gone) waits longer than a failure that may pass.
	incidentChannelRetry        = 10 * time.Second
	incidentChannelRefusalRetry = 5 * time.Minute
	// maxChannelInvites bounds the invitations of one reconcile; the rest
	// follow at once in the next.
	maxChannelInvites = 10
	// maxChannelReconcile bounds the Slack calls of one reconcile.
	maxChannelReconcile = 45 * time.Second
	// storeTimeout bounds the status write that records Slack's calls.
	storeTimeout = 10 * time.Second
	// maxInvited is the CRD's bound of status.slackChannel.invited.
	maxInvited = 100
	// maxChannelPosts bounds the messages of one reconcile.
	maxChannelPosts = 3
	// maxSlackChannelError bounds status.slackChannel.error.
	maxSlackChannelError = 512
	// createdSkew is how much earlier than requestedAt a channel found by
	// name may say it was created, for clocks that differ.
	createdSkew = 5 * time.Minute
)

// IncidentChannelReconciler keeps the Slack channel of each incident whose
// severity a Slack NotificationChannel's spec.slack.incidentChannels lists:
// it makes the channel, invites the people paged and the commander, posts
// the page and then each timeline entry, keeps the topic to severity, phase
// and commander, and archives the channel archiveAfter the close.
//
// Slack calls are not idempotent and a status write may fail after one, so
// each step is decided from the incident as the API server has it (the
// cache may be behind this reconciler's own last write), and the channel's
// name is written before Slack is asked to make it: a reconcile that finds
// a name without an ID looks for the channel its predecessor made.
type IncidentChannelReconciler struct {
	reconciler
	apiReader client.Reader
	loader    *channelLoader
	// waits are the Retry-After of Slack's rate-limited answers, and the
	// pauses after a Slack app did not answer, by NotificationChannel.
	waits *slackWaits
	// retries are when each incident whose step failed tries again, by
	// UID.
	retries *slackWaits
}

// channelGone are the refusals that mean the channel is no longer the
// app's to keep.
var channelGone = map[string]bool{"is_archived": true, "channel_not_found": true, "not_in_channel": true}

// retryKey keys an incident's retry wait.
func retryKey(inc *klaxonv1alpha1.Incident) types.NamespacedName {
	return types.NamespacedName{Namespace: inc.Namespace, Name: string(inc.UID)}
}

// NewIncidentChannelReconciler returns an IncidentChannelReconciler that
// reads through c and apiReader and records Events with recorder.
func NewIncidentChannelReconciler(c client.Client, apiReader client.Reader, recorder events.EventRecorder, opts ...Option) *IncidentChannelReconciler {
	o := buildOptions(opts)
	r := &IncidentChannelReconciler{reconciler: newReconciler(c, recorder, opts), apiReader: apiReader, waits: sharedSlackWaits, retries: newSlackWaits()}
	r.loader = &channelLoader{secretReader: apiReader, publicURL: o.publicURL, buttonKeys: o.ackLinks.keys, egress: o.egress}
	return r
}

// SetupWithManager registers the reconciler, which runs on the leader only.
func (r *IncidentChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.Incident{}).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: incidentChannelWorkers}).
		Named("incidentchannel").
		Complete(r)
}

// Reconcile does the next steps the incident's Slack channel needs.
func (r *IncidentChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	inc := &klaxonv1alpha1.Incident{}
	if err := r.client.Get(ctx, req.NamespacedName, inc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if inc.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	ch, err := r.channelFor(ctx, inc)
	if ch == nil || err != nil {
		return ctrl.Result{}, err
	}
	now := r.clock.Now()
	responders, err := respondersOf(ctx, r.client, inc.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !channelWorkDue(inc, ch, responders, now) {
		return archiveRequeue(inc, ch, now), nil
	}
	// A failed step waits its turn, whatever status write of the incident
	// controller wakes this one meanwhile; and every incident of an app
	// waits as long as Slack asked, or as its last timeout suggests.
	if wait := max(r.waits.wait(client.ObjectKeyFromObject(ch)), r.retries.wait(retryKey(inc))); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	live := &klaxonv1alpha1.Incident{}
	if err = r.apiReader.Get(ctx, req.NamespacedName, live); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if live.UID != inc.UID || live.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	if sc := live.Status.SlackChannel; sc != nil && sc.NotificationChannel != ch.Name {
		// The cache had not seen this reconciler's choice yet.
		if ch, err = r.channelFor(ctx, live); ch == nil || err != nil {
			return ctrl.Result{}, err
		}
	}
	if !channelWorkDue(live, ch, responders, now) {
		return archiveRequeue(live, ch, now), nil
	}
	// One Slack app that does not answer must not hold the workers for
	// long: every incident's channel waits on them.
	ctx, cancel := context.WithTimeout(ctx, maxChannelReconcile)
	defer cancel()
	slack, err := r.slack(ctx, ch)
	if err != nil {
		next := channelStatus(live, ch, now)
		return r.failed(ctx, live, ch, next, err, now)
	}
	w := &channelWork{r: r, slack: slack, inc: live, ch: ch, responders: responders, now: now, next: channelStatus(live, ch, now)}
	result, err := w.run(ctx)
	if code := notify.SlackErrorCode(err); channelGone[code] && w.next.ID != "" {
		// Someone archived or deleted the channel in Slack, or removed the
		// app from it: it is done with.
		w.next.ArchivedAt = &metav1.Time{Time: now.Truncate(time.Second)}
		w.warnings = append(w.warnings, fmt.Sprintf("Slack channel #%s was archived or deleted in Slack, or the app removed from it (%s): Klaxon leaves it", w.next.Name, code))
		result, err = ctrl.Result{}, nil
	}
	if err != nil {
		w.recordWarnings()
		return r.failed(ctx, live, ch, w.next, err, now)
	}
	w.next.Error = ""
	if err = r.store(ctx, live, w.next); err != nil {
		return ctrl.Result{}, err
	}
	for _, e := range w.events {
		recordEvent(r.recorder, live, corev1.EventTypeNormal, e[0], "SlackChannel", e[1])
	}
	w.recordWarnings()
	if result.IsZero() {
		result = archiveRequeue(live, ch, now)
	}
	return result, nil
}

// channelFor is the Slack NotificationChannel that keeps the incident's
// channel: the one its status names, or for an incident without one that
// is not closed, the first by name listing its severity; nil for none.
func (r *IncidentChannelReconciler) channelFor(ctx context.Context, inc *klaxonv1alpha1.Incident) (*klaxonv1alpha1.NotificationChannel, error) {
	if sc := inc.Status.SlackChannel; sc != nil {
		ch := &klaxonv1alpha1.NotificationChannel{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: sc.NotificationChannel}, ch)
		switch {
		case apierrors.IsNotFound(err):
			// Its author removed it: the channel is left as it is.
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("reading NotificationChannel %s: %w", sc.NotificationChannel, err)
		case ch.Spec.Slack == nil:
			return nil, nil
		}
		return ch, nil
	}
	if inc.Status.Phase == "" || inc.Status.Phase == klaxonv1alpha1.StateClosed {
		return nil, nil
	}
	list := &klaxonv1alpha1.NotificationChannelList{}
	if err := r.client.List(ctx, list, client.InNamespace(inc.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the NotificationChannels of namespace %s: %w", inc.Namespace, err)
	}
	slices.SortFunc(list.Items, func(a, b klaxonv1alpha1.NotificationChannel) int { return strings.Compare(a.Name, b.Name) })
	for i := range list.Items {
		if s := list.Items[i].Spec.Slack; s != nil && slackchannel.Wanted(s.IncidentChannels, inc.Spec.Severity) {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// channelStatus is the incident's channel status to work from: a copy of
// what it has, or a new one naming ch.
func channelStatus(inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel, now time.Time) *klaxonv1alpha1.IncidentSlackChannel {
	if sc := inc.Status.SlackChannel; sc != nil {
		return sc.DeepCopy()
	}
	return &klaxonv1alpha1.IncidentSlackChannel{NotificationChannel: ch.Name,
		Name: slackchannel.Name(channelPrefix(ch), inc.Name, 1), RequestedAt: metav1.NewTime(now.Truncate(time.Second))}
}

func channelPrefix(ch *klaxonv1alpha1.NotificationChannel) string {
	if ic := ch.Spec.Slack.IncidentChannels; ic != nil && ic.Prefix != "" {
		return ic.Prefix
	}
	return "inc"
}

// archiveAt is when the incident's channel is archived; false while the
// incident is not closed.
func archiveAt(inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel) (time.Time, bool) {
	if inc.Status.Phase != klaxonv1alpha1.StateClosed || inc.Status.ClosedAt == nil {
		return time.Time{}, false
	}
	after := 72 * time.Hour
	if ic := ch.Spec.Slack.IncidentChannels; ic != nil && ic.ArchiveAfter != nil {
		after = ic.ArchiveAfter.Duration
	}
	return inc.Status.ClosedAt.Add(after), true
}

// archiveRequeue wakes a closed incident whose channel is still open when
// it is due to be archived.
func archiveRequeue(inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel, now time.Time) ctrl.Result {
	sc := inc.Status.SlackChannel
	if sc == nil || sc.ID == "" || sc.ArchivedAt != nil {
		return ctrl.Result{}
	}
	if at, ok := archiveAt(inc, ch); ok && at.After(now) {
		return ctrl.Result{RequeueAfter: at.Sub(now)}
	}
	return ctrl.Result{}
}

// channelWorkDue reports whether the incident's channel needs a call to
// Slack: to be made, to invite someone, for a topic, a post or the archive.
func channelWorkDue(inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel, responders map[string]*klaxonv1alpha1.ResponderSpec, now time.Time) bool {
	sc := inc.Status.SlackChannel
	switch {
	case sc == nil:
		return true
	case sc.ArchivedAt != nil:
		return false
	case sc.ID == "" || pageDue(inc, sc) || sc.Topic != slackchannel.Topic(inc):
		return true
	}
	if _, n := slackchannel.Post(&inc.Status, sc.Posted); n != sc.Posted {
		return true
	}
	if len(uninvited(inc, ch, responders, sc)) > 0 {
		return true
	}
	at, closed := archiveAt(inc, ch)
	return closed && !at.After(now)
}

// pageDue reports whether the channel needs a page: none was posted, or
// the incident was reopened since, and the last page's buttons act on an
// episode gone.
func pageDue(inc *klaxonv1alpha1.Incident, sc *klaxonv1alpha1.IncidentSlackChannel) bool {
	return sc.PageRef == "" || sc.PageEpisode < inc.Status.Episode
}

// uninvited are the Slack IDs of the people paged in the current episode,
// of the commander and of the responders added by hand, who have a contact
// on ch and were not invited yet.
func uninvited(inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel, responders map[string]*klaxonv1alpha1.ResponderSpec, sc *klaxonv1alpha1.IncidentSlackChannel) []string {
	var people []string
	for _, a := range episodeAssignments(&inc.Status) {
		people = append(people, a.Name)
	}
	if c := inc.Status.Commander; c != "" {
		people = append(people, c)
	}
	for _, r := range inc.Spec.Responders {
		people = append(people, r.Name)
	}
	ids, _ := slackIDsOf(people, responders, ch.Name)
	ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(sc.Invited, id) })
	// status.slackChannel.invited holds maxInvited: nobody more is asked in.
	return ids[:min(len(ids), max(maxInvited-len(sc.Invited), 0))]
}

// slack is the Slack app of ch.
func (r *IncidentChannelReconciler) slack(ctx context.Context, ch *klaxonv1alpha1.NotificationChannel) (*notify.Slack, error) {
	sender, p, err := r.loader.load(ctx, ch)
	if err == nil && p != nil {
		err = notify.Permanent(errors.New(p.message))
	}
	if err != nil {
		return nil, fmt.Errorf("NotificationChannel %s cannot call Slack: %w", ch.Name, err)
	}
	slack, ok := sender.(*notify.Slack)
	if !ok {
		return nil, notify.Permanent(fmt.Errorf("NotificationChannel %s is not a slack channel", ch.Name))
	}
	return slack, nil
}

// failed records why a step failed, with a Warning Event when the reason
// is new, and waits before the next try: as long as Slack asked, else
// longer for a refusal than for a failure that may pass.
func (r *IncidentChannelReconciler) failed(ctx context.Context, inc *klaxonv1alpha1.Incident, ch *klaxonv1alpha1.NotificationChannel,
	next *klaxonv1alpha1.IncidentSlackChannel, cause error, now time.Time) (ctrl.Result, error) {
	retry := incidentChannelRetry
	if notify.IsPermanent(cause) {
		retry = incidentChannelRefusalRetry
	}
	if after, ok := r.waits.record(client.ObjectKeyFromObject(ch), cause); ok {
		retry = after
	} else if notify.SlackErrorCode(cause) == "" && !notify.IsPermanent(cause) && !errors.Is(cause, context.Canceled) {
		// No answer at all (a timeout, a refused connection): the app's
		// other incidents pause too rather than each wait for it.
		r.waits.hold(client.ObjectKeyFromObject(ch), retry)
	}
	r.retries.hold(retryKey(inc), retry)
	msg := bounded.Runes(notify.OneLine(cause.Error()), maxSlackChannelError)
	log.FromContext(ctx).Info("A Slack call for the incident's channel failed", "notificationChannel", klog.KObj(ch),
		"retryAfter", retry, "error", cause, "detail", notify.LogDetail(cause))
	fresh := next.Error != msg
	next.Error = msg
	if err := r.store(ctx, inc, next); err != nil {
		return ctrl.Result{}, err
	}
	if fresh {
		recordEvent(r.recorder, inc, corev1.EventTypeWarning, klaxonv1alpha1.EventSlackChannelFailed, "SlackChannel", msg)
	}
	return ctrl.Result{RequeueAfter: retry}, nil
}

// store writes next as status.slackChannel when it differs from what inc
// has. The merge patch names that field only, and no resourceVersion: this
// reconciler alone writes it, and a conflict with the incident
// controller's writes would make it repeat Slack calls already made.
func (r *IncidentChannelReconciler) store(ctx context.Context, inc *klaxonv1alpha1.Incident, next *klaxonv1alpha1.IncidentSlackChannel) error {
	if equalChannelStatus(inc.Status.SlackChannel, next) {
		return nil
	}
	patched := inc.DeepCopy()
	patched.Status.SlackChannel = next
	// What Slack did is recorded even when the reconcile's time for Slack
	// ran out, or the operator is stopping: each unrecorded call would be
	// made again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := r.client.Status().Patch(ctx, patched, client.MergeFrom(inc)); err != nil {
		return fmt.Errorf("recording the Slack channel of incident %s: %w", inc.Name, err)
	}
	inc.Status.SlackChannel = next.DeepCopy()
	return nil
}

func equalChannelStatus(a, b *klaxonv1alpha1.IncidentSlackChannel) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.NotificationChannel == b.NotificationChannel && a.Name == b.Name && a.ID == b.ID && a.RequestedAt.Equal(&b.RequestedAt) &&
		slices.Equal(a.Invited, b.Invited) && a.Topic == b.Topic && a.PageRef == b.PageRef && a.Posted == b.Posted &&
		a.ArchivedAt.Equal(b.ArchivedAt) && a.Error == b.Error && a.PageEpisode == b.PageEpisode
}

// channelWork is one reconcile's steps for one incident's channel.
type channelWork struct {
	r          *IncidentChannelReconciler
	slack      *notify.Slack
	inc        *klaxonv1alpha1.Incident
	ch         *klaxonv1alpha1.NotificationChannel
	responders map[string]*klaxonv1alpha1.ResponderSpec
	now        time.Time
	// next is the status the steps done so far leave.
	next *klaxonv1alpha1.IncidentSlackChannel
	// events are the Normal Events (reason, note) to record once stored.
	events [][2]string
	// warnings are the notes of SlackChannelFailed Events to record once
	// stored: refusals that did not stop the steps.
	warnings []string
}

// slackUserRefusals are the refusals of an invitation that concern the
// person invited, not the app or the channel.
var slackUserRefusals = map[string]bool{
	"user_not_found": true, "cant_invite": true, "cant_invite_self": true, "user_is_restricted": true,
	"user_is_ultra_restricted": true, "ura_max_channels": true, "user_team_not_in_channel": true,
}

// recordWarnings records the refusals that did not stop the steps.
func (w *channelWork) recordWarnings() {
	for _, note := range w.warnings {
		recordEvent(w.r.recorder, w.inc, corev1.EventTypeWarning, klaxonv1alpha1.EventSlackChannelFailed, "SlackChannel", note)
	}
}

// run does the steps due, in order, until one fails: it returns that
// failure, with next holding what the earlier steps did.
func (w *channelWork) run(ctx context.Context) (ctrl.Result, error) {
	inc, next := w.inc, w.next
	if inc.Status.SlackChannel == nil {
		// The name first: a later reconcile that finds it without an ID
		// knows Slack may have made the channel.
		return ctrl.Result{}, w.r.store(ctx, inc, next)
	}
	if next.ID == "" {
		if done, err := w.create(ctx); !done || err != nil {
			return ctrl.Result{}, err
		}
	}
	more := false
	invites := uninvited(inc, w.ch, w.responders, next)
	if len(invites) > maxChannelInvites {
		invites, more = invites[:maxChannelInvites], true
	}
	for _, id := range invites {
		err := w.slack.InviteToConversation(ctx, next.ID, id)
		if slackUserRefusals[notify.SlackErrorCode(err)] {
			// This person cannot be invited, which asking again will not
			// change: say so once, and go on with the others.
			w.warnings = append(w.warnings, fmt.Sprintf("Slack user %s could not be invited to #%s: %s", id, next.Name, notify.SlackErrorCode(err)))
			err = nil
		}
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("inviting %s: %w", id, err)
		}
		next.Invited = append(next.Invited, id)
		slices.Sort(next.Invited)
	}
	if pageDue(inc, next) {
		ref, err := w.slack.Send(ctx, w.page())
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("posting the page: %w", err)
		}
		if ref == "" {
			ref = next.ID
		}
		next.PageRef, next.PageEpisode = ref, inc.Status.Episode
	}
	if topic := slackchannel.Topic(inc); topic != next.Topic {
		err := w.slack.SetConversationTopic(ctx, next.ID, topic)
		if code := notify.SlackErrorCode(err); notify.IsPermanent(err) && code != "" && !channelGone[code] {
			// A workspace may forbid topics: the posts matter more. Said
			// once; tried again when the topic changes.
			w.warnings = append(w.warnings, fmt.Sprintf("Slack refused the topic of #%s: %s", next.Name, code))
			err = nil
		}
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("setting the topic: %w", err)
		}
		next.Topic = topic
	}
	for range maxChannelPosts {
		text, n := slackchannel.Post(&inc.Status, next.Posted)
		if n == next.Posted {
			break
		}
		if text != "" {
			if err := w.slack.PostText(ctx, next.ID, text); err != nil {
				return ctrl.Result{}, fmt.Errorf("posting to the channel: %w", err)
			}
		}
		next.Posted = n
	}
	if _, n := slackchannel.Post(&inc.Status, next.Posted); n != next.Posted {
		more = true
	}
	if at, closed := archiveAt(inc, w.ch); closed && !at.After(w.now) && !more {
		if err := w.slack.ArchiveConversation(ctx, next.ID); err != nil {
			return ctrl.Result{}, fmt.Errorf("archiving the channel: %w", err)
		}
		next.ArchivedAt = &metav1.Time{Time: w.now.Truncate(time.Second)}
		w.events = append(w.events, [2]string{klaxonv1alpha1.EventSlackChannelArchived, "Archived Slack channel #" + next.Name})
	}
	if more {
		return ctrl.Result{RequeueAfter: time.Millisecond}, nil
	}
	return ctrl.Result{}, nil
}

// create asks Slack for the channel named next.Name. A name taken by the
// channel an earlier create made (its answer lost to a restart) takes that
// channel; a name taken by another moves on to the next name, which is
// stored before it is tried: done is then false.
func (w *channelWork) create(ctx context.Context) (done bool, err error) {
	next := w.next
	id, err := w.slack.CreateConversation(ctx, next.Name)
	if notify.SlackErrorCode(err) == "name_taken" {
		id, err = w.slack.FindOwnConversation(ctx, next.Name, next.RequestedAt.Add(-createdSkew))
		if err != nil {
			return false, fmt.Errorf("looking for channel #%s: %w", next.Name, err)
		}
		// Two incidents' names can make one channel name (db.down and
		// db-down, or one name in two namespaces): a channel another
		// incident keeps is not this one's.
		if id != "" {
			kept, kerr := w.r.keptByAnother(ctx, w.inc, id)
			if kerr != nil {
				return false, kerr
			}
			if kept {
				id = ""
			}
		}
		if id == "" {
			name, ok := slackchannel.NextName(channelPrefix(w.ch), w.inc.Name, next.Name)
			if !ok {
				return false, notify.Permanent(fmt.Errorf("channel #%s and the %d names before it are taken in Slack", next.Name, slackchannel.MaxAttempts-1))
			}
			next.Name, next.RequestedAt = name, metav1.NewTime(w.now.Truncate(time.Second))
			return false, w.r.store(ctx, w.inc, next)
		}
	}
	if err != nil {
		return false, fmt.Errorf("creating channel #%s: %w", next.Name, err)
	}
	next.ID = id
	// Stored at once: every later step can be repeated, this one cannot.
	if err = w.r.store(ctx, w.inc, next); err != nil {
		return false, err
	}
	w.events = append(w.events, [2]string{klaxonv1alpha1.EventSlackChannelCreated, fmt.Sprintf("Created Slack channel #%s (%s)", next.Name, id)})
	return true, nil
}

// keptByAnother reports whether an incident other than inc records the
// Slack channel id as its own.
func (r *IncidentChannelReconciler) keptByAnother(ctx context.Context, inc *klaxonv1alpha1.Incident, id string) (bool, error) {
	list := &klaxonv1alpha1.IncidentList{}
	if err := r.client.List(ctx, list); err != nil {
		return false, fmt.Errorf("listing the incidents: %w", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID != inc.UID && o.Status.SlackChannel != nil && o.Status.SlackChannel.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// page is the first message of the channel: the incident's facts, who was
// paged, and the Acknowledge and Resolve buttons.
func (w *channelWork) page() *notify.Message {
	st := &w.inc.Status
	m := &notify.Message{Incident: messageIncident(w.inc), Address: w.next.ID}
	if e := st.Escalation; e != nil {
		m.Page.Level, m.Page.Round = e.Level, e.Round
	}
	for _, a := range episodeAssignments(st) {
		m.Page.Paged = append(m.Page.Paged, a.Name)
	}
	return m
}
