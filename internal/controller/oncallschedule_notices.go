package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/notice"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// maxNoticeSends is how many notices one reconcile sends, at once; the
// rest wait for the reconcile that the write of their outcomes brings.
const maxNoticeSends = 4

// +kubebuilder:rbac:groups=klaxon.dev,resources=responders,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=notificationchannels,verbs=get;list;watch

// reconcileNotices records everyone's shifts in the next 14 days, tells
// what an edit changed in them, and plans the shift notices now due as
// Pending; sendNotices sends them once this is stored.
func (r *OnCallScheduleReconciler) reconcileNotices(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule]) (ctrl.Result, error) {
	st := &s.obj.Status
	compiled, err := oncall.Compile(&s.obj.Spec)
	if err != nil {
		// reconcileOnCall reports it as Ready=False; a schedule that puts
		// nobody on call tells nobody.
		return ctrl.Result{}, nil //nolint:nilerr // reported as a condition, not retried
	}
	overrides, err := overridesOf(ctx, r.client, s.obj.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	compiled = compiled.WithOverrides(s.obj.Name, overrides)
	responders, err := respondersOf(ctx, r.client, s.obj.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}

	// Without a notice rule in the namespace nobody is told of shifts: the
	// walk is skipped, and the record spans nothing, so that a rule added
	// later finds no change to tell until a record of shifts exists. The
	// revision still follows every edit, for calendar feeds.
	var shifts []oncall.PersonShift
	until := s.now
	if anyRule(responders, klaxonv1alpha1.RuleOnShiftStart) || anyRule(responders, klaxonv1alpha1.RuleOnShiftChange) {
		shifts, until = notice.Shifts(compiled, s.now)
	}
	entries := notice.Entries(shifts, s.now)
	changes := notice.Diff(st.Shifts, entries, until, s.now)
	inputs := notice.Inputs(s.obj.Name, &s.obj.Spec, overrides)
	// A change of inputs that moves nothing still gets a revision, but
	// tells nobody; without an edit, only the changes held back for want
	// of room are told.
	record, _ := notice.Update(st.Shifts, inputs, entries, until, s.now, len(changes) > 0)
	if st.Shifts != nil && record.Revision == st.Shifts.Revision {
		changes = notice.Untold(changes, st.Shifts)
	}

	plan := &notice.Plan{Now: s.now, Location: compiled.Location(), Revision: record.Revision,
		Shifts: shifts, Changes: changes, Responders: responders}
	notices, next, untold := plan.Notices(st.Notices)
	st.Shifts = notice.HoldBack(record, st.Shifts, untold)
	st.Notices = notices
	if len(notices) == 0 {
		st.Notices = nil
	}

	// Come back when the next notice is to be planned, or a failed one
	// retried, or, while someone is told of changes, when the record is to
	// move on with time so that it keeps covering the next 14 days.
	var wake time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	if anyRule(responders, klaxonv1alpha1.RuleOnShiftChange) {
		soonest(record.From.Add(notice.Refresh))
	}
	for i := range notices {
		soonest(notice.DueAt(&notices[i]))
	}
	soonest(next)
	if wake.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: max(wake.Sub(s.now), time.Second)}, nil
}

// anyRule reports whether any of the Responders has a rule with on.
func anyRule(responders map[string]*klaxonv1alpha1.ResponderSpec, on klaxonv1alpha1.RuleOn) bool {
	for _, spec := range responders {
		for _, r := range spec.Rules {
			if r.Sends() == on {
				return true
			}
		}
	}
	return false
}

// dueNotices reports whether any of the notices is Pending and due at now.
func dueNotices(notices []klaxonv1alpha1.ShiftNotice, now time.Time) bool {
	for i := range notices {
		if at := notice.DueAt(&notices[i]); !at.IsZero() && !at.After(now) {
			return true
		}
	}
	return false
}

// respondersOf reads the Responders of a namespace from the cache, by name.
func respondersOf(ctx context.Context, c client.Client, namespace string) (map[string]*klaxonv1alpha1.ResponderSpec, error) {
	list := &klaxonv1alpha1.ResponderList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the responders of namespace %s: %w", namespace, err)
	}
	out := make(map[string]*klaxonv1alpha1.ResponderSpec, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i].Spec
	}
	return out, nil
}

// noticeSend is one notice being sent and what became of it.
type noticeSend struct {
	key      string
	kind     klaxonv1alpha1.ShiftNoticeKind
	attempts int32
	outcome  notice.Outcome
}

// sendNotices sends the notices an earlier write recorded Pending and now
// due, at most maxNoticeSends, and records what became of them. It reads
// the schedule from the API server, not the cache, right before sending,
// and records an outcome only on a notice still Pending with the attempts
// it was sent with: so a notice recorded Sent is never sent again, whatever
// a lagging cache or a new leader would say. It returns when to look again
// for the notices it left.
func (r *OnCallScheduleReconciler) sendNotices(ctx context.Context, ref types.NamespacedName) (ctrl.Result, error) {
	sched := &klaxonv1alpha1.OnCallSchedule{}
	if err := r.apiReader.Get(ctx, ref, sched); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.clock.Now()
	var due []klaxonv1alpha1.ShiftNotice
	for _, n := range sched.Status.Notices {
		if at := notice.DueAt(&n); !at.IsZero() && !at.After(now) && len(due) < maxNoticeSends {
			due = append(due, n)
		}
	}
	if len(due) == 0 {
		return ctrl.Result{}, nil
	}
	responders, err := respondersOf(ctx, r.client, ref.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	loc := time.UTC
	if compiled, err := oncall.Compile(&sched.Spec); err == nil {
		loc = compiled.Location()
	}
	sends := make([]noticeSend, len(due))
	var wg sync.WaitGroup
	for i := range due {
		n := &due[i]
		sends[i] = noticeSend{key: n.Key, kind: n.Kind, attempts: n.Attempts}
		if notice.TooLateFor(n, now) {
			sends[i].outcome = notice.Outcome{At: now, TooLate: true}
			continue
		}
		wg.Go(func() {
			sends[i].outcome = r.sendNotice(ctx, sched, n, responders[n.User], loc)
		})
	}
	wg.Wait()
	if err := r.recordNoticeOutcomes(ctx, ref, sends); err != nil {
		return ctrl.Result{}, err
	}
	// The write wakes the schedule for the rest; a retry needs the time.
	return ctrl.Result{}, nil
}

// sendNotice sends one notice through its contact's channel.
func (r *OnCallScheduleReconciler) sendNotice(ctx context.Context, sched *klaxonv1alpha1.OnCallSchedule,
	n *klaxonv1alpha1.ShiftNotice, spec *klaxonv1alpha1.ResponderSpec, loc *time.Location) notice.Outcome {
	fail := func(err error) notice.Outcome { return notice.Outcome{At: r.clock.Now(), Err: err} }
	if spec == nil {
		return fail(fmt.Errorf("no Responder named %s", n.User))
	}
	var contact *klaxonv1alpha1.Contact
	for i := range spec.Contacts {
		if spec.Contacts[i].Name == n.Contact {
			contact = &spec.Contacts[i]
		}
	}
	if contact == nil {
		return fail(fmt.Errorf("no contact %s on Responder %s", n.Contact, n.User))
	}
	m := notify.Message{Address: contact.Address, Kind: string(contact.Kind), Notice: &notify.ShiftNotice{
		Kind: string(n.Kind), Namespace: sched.Namespace, Schedule: sched.Name,
		Responder: n.User, DisplayName: spec.DisplayName, Location: loc, Text: n.Message,
	}}
	if n.ShiftStart != nil && n.ShiftEnd != nil {
		m.Notice.Start, m.Notice.End = n.ShiftStart.Time, n.ShiftEnd.Time
	}
	// Only for the phone caps, which count per person: a notice renders
	// from Notice alone.
	m.Page.Responder = n.User
	// The incident sender's channel loading, egress, phone caps and
	// timeout.
	o := r.sender.sendMessage(ctx, types.NamespacedName{Namespace: sched.Namespace, Name: sched.Name}, sched.UID,
		sendRequest{key: n.Key, attempts: n.Attempts, channel: contact.Channel, message: m}, &m)
	return notice.Outcome{At: o.At, Err: o.Err, Permanent: o.Permanent}
}

// recordNoticeOutcomes stores the outcomes on the schedule, read afresh
// from the API server on a conflict, each on its notice only while that is
// still Pending with the attempts it was sent with; then counts them and
// announces those that failed for good.
func (r *OnCallScheduleReconciler) recordNoticeOutcomes(ctx context.Context, ref types.NamespacedName, sends []noticeSend) error {
	var stored *klaxonv1alpha1.OnCallSchedule
	var failed []string
	// finished are the kind and state of each notice the write finished.
	type finished struct{ kind, state string }
	var counted []finished
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sched := &klaxonv1alpha1.OnCallSchedule{}
		if err := r.apiReader.Get(ctx, ref, sched); err != nil {
			return err
		}
		original := sched.DeepCopy()
		failed, counted = failed[:0], counted[:0]
		for _, snd := range sends {
			for i := range sched.Status.Notices {
				n := &sched.Status.Notices[i]
				if n.Key != snd.key || n.State != klaxonv1alpha1.ShiftNoticePending || n.Attempts != snd.attempts {
					continue
				}
				if notice.Apply(n, snd.outcome) {
					failed = append(failed, fmt.Sprintf("%s notice to %s (%s) failed: %s", n.Kind, n.User, n.Contact, n.Reason))
				}
				if n.State != klaxonv1alpha1.ShiftNoticePending {
					counted = append(counted, finished{string(n.Kind), string(n.State)})
				}
			}
		}
		// A conflict (IsConflict sees through the wrapping) reads afresh.
		if _, err := patchStatusIfChanged(ctx, r.client, original, sched); err != nil {
			return err
		}
		stored = sched
		return nil
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recording the outcome of shift notices: %w", err)
	}
	for _, c := range counted {
		result := metrics.NoticeSent
		if c.state == string(klaxonv1alpha1.ShiftNoticeFailed) {
			result = metrics.NoticeFailed
		}
		metrics.ShiftNotice(c.kind, result)
	}
	for _, msg := range failed {
		recordEvent(r.recorder, stored, corev1.EventTypeWarning, "NoticeFailed", "Notify", msg)
	}
	return nil
}

// schedulesOfResponder wakes every schedule of a Responder's namespace: a
// changed rule may change which notices are due.
func (r *OnCallScheduleReconciler) schedulesOfResponder(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &klaxonv1alpha1.OnCallScheduleList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing the schedules a Responder may be on")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
