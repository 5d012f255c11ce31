package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/apitime"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// OnCallScheduleReconciler keeps each schedule's status.onCall current: it
// computes who is on call now and requeues at the next handoff.
type OnCallScheduleReconciler struct {
	reconciler
	// apiReader reads the schedule from the API server right before its
	// notices are sent.
	apiReader client.Reader
	// sender sends shift notices as the incident sender sends pages.
	sender *sender
	// publicURL and ackLinks are for the channels that need them.
	publicURL string
	ackLinks  ackLinkOptions
	// slackWaits are the Retry-After of Slack's rate-limited answers to
	// user group updates.
	slackWaits *slackWaits
}

// NewOnCallScheduleReconciler returns an OnCallScheduleReconciler.
func NewOnCallScheduleReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *OnCallScheduleReconciler {
	o := buildOptions(opts)
	r := &OnCallScheduleReconciler{reconciler: newReconciler(c, recorder, opts), apiReader: c, publicURL: o.publicURL, ackLinks: o.ackLinks,
		slackWaits: sharedSlackWaits}
	r.sender = r.newNoticeSender(c, c)
	return r
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules/status,verbs=patch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncalloverrides,verbs=get;list;watch

// Reconcile computes who is on call now and when that changes next, plans
// the shift notices due and, once they are stored, sends them.
func (r *OnCallScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// toSend spares the API server a read of every schedule reconciled:
	// only one whose notices are due is read afresh before sending.
	toSend := false
	notices := func(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule]) (ctrl.Result, error) {
		res, err := r.reconcileNotices(ctx, s)
		toSend = dueNotices(s.obj.Status.Notices, s.now)
		return res, err
	}
	result, err := runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.OnCallSchedule{}, phases(r.reconcileOnCall, notices, r.reconcileSlackUserGroup))
	if err != nil || !toSend {
		return result, err
	}
	sent, err := r.sendNotices(ctx, req.NamespacedName)
	return lowestRequeue(result, sent), err
}

// reconcileOnCall sets status.onCall, nextHandoffAt, overrides and Ready.
func (r *OnCallScheduleReconciler) reconcileOnCall(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule]) (ctrl.Result, error) {
	st := &s.obj.Status
	compiled, err := oncall.Compile(&s.obj.Spec)
	if err != nil {
		// An invalid spec stays invalid until someone edits it.
		reason := klaxonv1alpha1.ReasonInvalidSchedule
		if errors.Is(err, oncall.ErrUnknownTimeZone) {
			reason = klaxonv1alpha1.ReasonInvalidTimeZone
		}
		st.OnCall, st.NextHandoffAt, st.Overrides = nil, nil, nil
		return report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(reason, err.Error()), "", "", "Validate"), nil
	}
	overrides, err := overridesOf(ctx, r.client, s.obj.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	compiled = compiled.WithOverrides(s.obj.Name, overrides)
	onCall := boundedOnCall(compiled.At(s.now))
	if !slices.Equal(st.OnCall, onCall) {
		log.FromContext(ctx).Info("On-call changed", "onCall", onCall)
		s.record(corev1.EventTypeNormal, "Handoff", "Handoff", onCallMessage(onCall))
	}
	st.OnCall, st.NextHandoffAt = onCall, nil
	next, until := compiled.NextHandoff(s.now)
	if !next.IsZero() {
		st.NextHandoffAt = &metav1.Time{Time: apitime.CeilSecond(next)}
	}
	// A replace of someone neither the schedule nor its overrides can put
	// on call changes nothing, nor does an override beyond the cap, and
	// their own Ready says so; listing them as in force would mislead.
	people, leftOut := compiled.People(), map[string]bool{}
	for _, name := range oncall.LeftOut(s.obj.Name, overrides) {
		leftOut[name] = true
	}
	applicable := slices.DeleteFunc(slices.Clone(overrides), func(o klaxonv1alpha1.OnCallOverride) bool {
		return (o.Spec.Replace != nil && !slices.Contains(people, o.Spec.Replace.User)) ||
			leftOut[o.Name]
	})
	inForce, upcoming, edge := oncall.Around(s.obj.Name, applicable, s.now)
	st.Overrides = overridesInForce(inForce, upcoming)
	report(ctx, s, klaxonv1alpha1.ConditionReady, nil, klaxonv1alpha1.ReasonValid, onCallMessage(onCall), "Validate")
	// until is the handoff when there is one. Otherwise it is where the
	// look-ahead stopped, at its horizon or short of it on a dense schedule:
	// come back then to look further, or a schedule whose handoff lies
	// beyond would never be woken for it. An override that starts or ends
	// without changing who is on call still changes status.overrides.
	wake := apitime.CeilSecond(until)
	if !edge.IsZero() && edge.Before(wake) {
		wake = apitime.CeilSecond(edge)
	}
	return ctrl.Result{RequeueAfter: min(wake.Sub(s.now), oncall.Horizon)}, nil
}

// newNoticeSender returns the sender of shift notices. It is not added to
// the manager: only its sending is used, within the reconcile, which runs
// on the leader.
func (r *OnCallScheduleReconciler) newNoticeSender(cache client.Client, apiReader client.Reader) *sender {
	return newSender(cache, apiReader, &channelLoader{secretReader: apiReader, publicURL: r.publicURL,
		buttonKeys: r.ackLinks.keys, egress: r.egress}, r.clock)
}

// scheduleWorkers is how many schedules are reconciled at once.
const scheduleWorkers = 4

// overridesOf lists the OnCallOverrides of a namespace, from the cache.
func overridesOf(ctx context.Context, c client.Client, namespace string) ([]klaxonv1alpha1.OnCallOverride, error) {
	list := &klaxonv1alpha1.OnCallOverrideList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the on-call overrides of namespace %s: %w", namespace, err)
	}
	return list.Items, nil
}

// maxOnCall is the most people status.onCall holds (its CRD bound); more
// would take sixteen Add layers of large groups. Paging reads the schedule
// itself and pages everyone.
const maxOnCall = 256

func boundedOnCall(onCall []string) []string {
	return onCall[:min(len(onCall), maxOnCall)]
}

// maxOverridesListed is the most overrides status.overrides holds (its CRD
// bound), those in force first.
const maxOverridesListed = 16

// overridesInForce lists the overrides in force and the next ones for
// status, in the order they apply.
func overridesInForce(inForce, next []klaxonv1alpha1.OnCallOverride) []klaxonv1alpha1.OverrideInForce {
	var out []klaxonv1alpha1.OverrideInForce
	add := func(os []klaxonv1alpha1.OnCallOverride, state klaxonv1alpha1.OverrideState) {
		for i := range os {
			if len(out) == maxOverridesListed {
				return
			}
			o := &os[i]
			out = append(out, klaxonv1alpha1.OverrideInForce{
				Name: o.Name, State: state, Start: o.Spec.Start, End: o.Spec.End, Change: oncall.Describe(&o.Spec),
			})
		}
	}
	add(inForce, klaxonv1alpha1.OverrideInForceNow)
	add(next, klaxonv1alpha1.OverrideNext)
	return out
}

// maxNamesInMessage bounds the names an Event or condition message lists,
// so that the message stays within the events API's limit.
const maxNamesInMessage = 10

func onCallMessage(onCall []string) string {
	if len(onCall) == 0 {
		return "Nobody is on call"
	}
	names := onCall[:min(len(onCall), maxNamesInMessage)]
	msg := "On call: " + strings.Join(names, ", ")
	if more := len(onCall) - len(names); more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	return msg
}

// scheduleOfOverride wakes the schedule an override names; an edit that
// moves the override to another schedule wakes both, since the handler
// maps the old object as well as the new.
func scheduleOfOverride(_ context.Context, obj client.Object) []reconcile.Request {
	o, ok := obj.(*klaxonv1alpha1.OnCallOverride)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.ScheduleRef.Name}}}
}

// SetupWithManager registers the reconciler: it watches overrides too, so
// that one created, edited or deleted shows at once, and Responders, whose
// rules say which notices are due.
func (r *OnCallScheduleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.apiReader = mgr.GetAPIReader()
	r.sender = r.newNoticeSender(mgr.GetClient(), mgr.GetAPIReader())
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.OnCallSchedule{}).
		Watches(&klaxonv1alpha1.OnCallOverride{}, handler.EnqueueRequestsFromMapFunc(scheduleOfOverride)).
		Watches(&klaxonv1alpha1.Responder{}, handler.EnqueueRequestsFromMapFunc(r.schedulesOfResponder)).
		// A reconcile may wait on a slow channel's sends of notices
		// (notify.SendTimeout); other schedules' handoffs must not.
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: scheduleWorkers}).
		Named("oncallschedule").
		Complete(r)
}
