package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"

	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// IncidentReconciler moves each Incident through its lifecycle and pages
// along its escalation policy.
type IncidentReconciler struct {
	reconciler
	// workers is how many incidents are reconciled at once.
	workers int
	// publicURL is the base of the links in messages (WithPublicURL).
	publicURL string
	// ackLinks signs the acknowledge links of pages (WithAckLinks).
	ackLinks ackLinkOptions
	// sender delivers pages; nil (a reconciler outside a manager) plans
	// deliveries but sends nothing.
	sender *sender
	// silencer calls the Alertmanagers of AlertRoutes (alertmanager_client.go)
	// for the silences of acknowledged incidents (incident_silence.go).
	silencer *silencer
}

// NewIncidentReconciler returns an IncidentReconciler that writes through c
// and records Events with recorder.
func NewIncidentReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *IncidentReconciler {
	o := buildOptions(opts)
	rec := newReconciler(c, recorder, opts)
	rec.relay = o.relay
	// Every change of an incident is reconciled (SetupWithManager), so a
	// reconcile behind its own status write may leave the next look to
	// that write's event: in a storm it would only have conflicted.
	rec.overwritten = &sync.Map{}
	return &IncidentReconciler{reconciler: rec, workers: o.incidentWorkers, publicURL: o.publicURL, ackLinks: o.ackLinks,
		silencer: &silencer{secrets: &channelLoader{secretReader: c}}}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=incidents,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=klaxon.dev,resources=incidents/status,verbs=patch
// +kubebuilder:rbac:groups=klaxon.dev,resources=escalationpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// incidentScope is what the phases of one incident reconcile share.
type incidentScope = scope[*klaxonv1alpha1.Incident]

// Reconcile accepts the incident's desired state, pages along its policy,
// and records both in status; an incident being deleted has its
// Alertmanager silence expired before it goes.
func (r *IncidentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.Incident{}, phases(
		r.reconcileLifecycle,
		r.reconcileEscalation,
		r.reconcilePagingConditions,
		r.reconcileDelivery,
		r.reconcileTargets,
		r.reconcileTimeline,
		r.reconcileSilence,
	).onDelete(SilenceFinalizer, r.reconcileDeleteSilence))
}

// policyRefField indexes incidents by the name of their escalation policy.
const policyRefField = "spec.escalationPolicyRef.name"

// SetupWithManager registers the reconciler. It watches every change of an
// Incident, not only spec generations: the klaxon.dev/actor annotation and
// status must be seen too. A policy or schedule that appears or changes wakes
// the incidents that page through it, so paging that waited for it resumes;
// a maintenance window that changes (or starts or ends) wakes the Triggered
// incidents it matches or holds.
func (r *IncidentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &klaxonv1alpha1.Incident{}, policyRefField,
		func(obj client.Object) []string {
			if ref := obj.(*klaxonv1alpha1.Incident).Spec.EscalationPolicyRef; ref != nil {
				return []string{ref.Name}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("indexing incidents by escalation policy: %w", err)
	}
	r.live = mgr.GetAPIReader()
	// Sends run beside the controller, on the leader; each finished send
	// wakes its incident to record the outcome.
	r.sender = newSender(mgr.GetClient(), mgr.GetAPIReader(), &channelLoader{secretReader: mgr.GetAPIReader(), publicURL: r.publicURL, buttonKeys: r.ackLinks.keys, egress: r.egress}, r.clock)
	r.sender.bundleLink = func(namespace, bundle, responder string, now time.Time) string {
		return r.ackLinks.bundleLink(r.publicURL, namespace, bundle, responder, now)
	}
	// Alertmanager auth Secrets are read uncached, like channel credentials.
	r.silencer = &silencer{secrets: &channelLoader{secretReader: mgr.GetAPIReader()}, egress: r.egress}
	if err := mgr.Add(r.sender); err != nil {
		return fmt.Errorf("adding the notification sender: %w", err)
	}
	if r.relay != nil {
		if err := mgr.Add(&catchUp{relay: r.relay, api: mgr.GetAPIReader(), cache: mgr.GetCache()}); err != nil {
			return fmt.Errorf("adding the relay's catch-up: %w", err)
		}
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.Incident{}).
		WatchesRawSource(source.Channel(r.sender.wake, &handler.TypedEnqueueRequestForObject[*klaxonv1alpha1.Incident]{}))
	if r.relay != nil {
		b = b.WatchesRawSource(r.relay.source())
	}
	return b.
		Watches(&klaxonv1alpha1.EscalationPolicy{}, handler.EnqueueRequestsFromMapFunc(r.incidentsForPolicy)).
		Watches(&klaxonv1alpha1.OnCallSchedule{}, handler.EnqueueRequestsFromMapFunc(r.incidentsForSchedule)).
		Watches(&klaxonv1alpha1.Responder{}, handler.EnqueueRequestsFromMapFunc(r.incidentsForResponder)).
		Watches(&klaxonv1alpha1.MaintenanceWindow{}, handler.EnqueueRequestsFromMapFunc(r.incidentsForWindow)).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.workers, RateLimiter: incidentRetries()}).
		Named("incident").
		Complete(r)
}

// incidentRetries paces the retries of failed incident reconciles. Paging
// must resume within seconds once the API server is back: client-go's
// default backs one incident off up to 16 minutes and all retries to 10 a
// second, which after a 20 s outage left pages of a hundred incidents ten
// seconds late (test/fault TestAPIServerOutage). Here one incident waits at
// most maxIncidentRetryDelay, and retries run at 100 a second; API Priority
// and Fairness protects the API server.
func incidentRetries() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxIncidentRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(100), 500)},
	)
}

// maxIncidentRetryDelay is the longest a failed incident waits to be
// reconciled again.
const maxIncidentRetryDelay = 5 * time.Second

// incidentsForPolicy lists the open incidents that follow a policy.
func (r *IncidentReconciler) incidentsForPolicy(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &klaxonv1alpha1.IncidentList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{policyRefField: obj.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing incidents of an escalation policy", "escalationPolicy", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	// Paging and response targets follow the policy until the incident is
	// closed.
	for _, inc := range list.Items {
		if inc.Status.Phase != klaxonv1alpha1.StateClosed {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&inc)})
		}
	}
	return reqs
}

// incidentsForSchedule lists the open incidents whose policy pages a schedule.
func (r *IncidentReconciler) incidentsForSchedule(ctx context.Context, obj client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	for _, pol := range policiesNaming(ctx, r.client, obj.GetNamespace(), obj.GetName()) {
		p := &klaxonv1alpha1.EscalationPolicy{}
		p.Namespace, p.Name = pol.Namespace, pol.Name
		reqs = append(reqs, r.incidentsForPolicy(ctx, p)...)
	}
	return reqs
}
