package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/heartbeat"
)

// maxIncidentNameSteps bounds how many names an overdue heartbeat steps over
// when objects it did not open hold them.
const maxIncidentNameSteps = 8

// HeartbeatReconciler opens an incident when a heartbeat misses its
// timeout and resolves it when beats return. It judges from the persisted
// status.lastSeenAt (which the receiver writes) and the creation time, and
// names each incident after a serial kept in status, so a restarted or
// failed-over operator neither misses an expiry nor opens a duplicate. It
// runs on the leader only.
type HeartbeatReconciler struct {
	reconciler
}

// NewHeartbeatReconciler returns a HeartbeatReconciler.
func NewHeartbeatReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *HeartbeatReconciler {
	return &HeartbeatReconciler{newReconciler(c, recorder, opts)}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=heartbeats,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=heartbeats/status,verbs=patch
// +kubebuilder:rbac:groups=klaxon.dev,resources=incidents,verbs=get;list;watch;create;patch

// Reconcile checks the heartbeat and acts on whether it is overdue.
func (r *HeartbeatReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.Heartbeat{}, phases(r.reconcileReady, r.reconcileOverdue))
}

// reconcileReady sets Ready: the route exists and the matchers parse. An
// AlertRoute's creation wakes its heartbeats (see SetupWithManager).
func (r *HeartbeatReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.Heartbeat]) (ctrl.Result, error) {
	hb := s.obj
	var p *problem
	err := r.client.Get(ctx, client.ObjectKey{Namespace: hb.Namespace, Name: hb.Spec.AlertRouteRef.Name}, &klaxonv1alpha1.AlertRoute{})
	switch {
	case apierrors.IsNotFound(err):
		p = waitingFor(klaxonv1alpha1.ReasonAlertRouteNotFound, fmt.Sprintf(
			"AlertRoute %s not found in namespace %s: no beat can be authenticated until it exists", hb.Spec.AlertRouteRef.Name, hb.Namespace), 0)
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading AlertRoute %s/%s: %w", hb.Namespace, hb.Spec.AlertRouteRef.Name, err)
	}
	if _, err := heartbeat.CompileMatchers(hb.Spec.Matchers); err != nil && p == nil {
		p = stalledBy(klaxonv1alpha1.ReasonInvalidMatcher, err.Error())
	}
	msg := fmt.Sprintf("Beats are pings to /heartbeat/%s/%s with the token of AlertRoute %s", hb.Namespace, hb.Name, hb.Spec.AlertRouteRef.Name)
	if len(hb.Spec.Matchers) > 0 {
		msg += ", and firing alerts posted to that route that match spec.matchers"
	}
	return report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonValid, msg, "Validate"), nil
}

// reconcileOverdue opens the heartbeat's incident when it is overdue and
// resolves it when it beats again. The incident is created before the status
// that records it: a crash in between makes the next reconcile hit
// AlreadyExists on the same name and adopt the incident.
func (r *HeartbeatReconciler) reconcileOverdue(ctx context.Context, s *scope[*klaxonv1alpha1.Heartbeat]) (ctrl.Result, error) {
	hb := s.obj
	d := heartbeat.Decide(hb, s.now)
	switch d.Action {
	case heartbeat.ActionOpen:
		inc, serial, err := r.openIncident(ctx, hb)
		if err != nil {
			return ctrl.Result{}, err
		}
		hb.Status.IncidentSerial = serial
		hb.Status.IncidentRef = &klaxonv1alpha1.LocalObjectReference{Name: inc.Name}
	case heartbeat.ActionResolve:
		if err := r.resolveIncident(ctx, hb); err != nil {
			return ctrl.Result{}, err
		}
		hb.Status.IncidentRef = nil
	default:
		if !d.Overdue && hb.Status.IncidentRef == nil {
			// An incident created while the status write recording it
			// failed (a beat's patch came in between) is the next serial's:
			// record it so the resolve below, or the next reconcile, ends it.
			if err := r.adoptUnrecorded(ctx, hb); err != nil {
				return ctrl.Result{}, err
			}
			if hb.Status.IncidentRef != nil {
				if err := r.resolveIncident(ctx, hb); err != nil {
					return ctrl.Result{}, err
				}
				hb.Status.IncidentRef = nil
			}
		}
	}

	before := conditions.Find(hb, klaxonv1alpha1.ConditionOverdue)
	if d.Overdue {
		incident := ""
		if hb.Status.IncidentRef != nil {
			incident = hb.Status.IncidentRef.Name
		}
		msg := fmt.Sprintf("No beat within %s: opened incident %s", hb.Spec.Timeout.Duration, incident)
		conditions.Set(hb, klaxonv1alpha1.ConditionOverdue, true, klaxonv1alpha1.ReasonBeatMissed, msg, s.now)
		if before == nil || before.Status != metav1.ConditionTrue {
			s.record(corev1.EventTypeWarning, klaxonv1alpha1.ReasonBeatMissed, "OpenIncident", msg)
		}
		return ctrl.Result{}, nil
	}
	msg := fmt.Sprintf("A beat is expected within %s", hb.Spec.Timeout.Duration)
	conditions.Set(hb, klaxonv1alpha1.ConditionOverdue, false, klaxonv1alpha1.ReasonBeating, msg, s.now)
	if before != nil && before.Status == metav1.ConditionTrue {
		s.record(corev1.EventTypeNormal, klaxonv1alpha1.ReasonBeating, "ResolveIncident", "Beats returned: resolved the heartbeat's incident")
	}
	return ctrl.Result{RequeueAfter: d.RequeueAfter}, nil
}

// openIncident creates the heartbeat's next incident, or adopts it when a
// previous attempt created it but did not record it. Names held by objects
// the heartbeat did not open are stepped over.
func (r *HeartbeatReconciler) openIncident(ctx context.Context, hb *klaxonv1alpha1.Heartbeat) (*klaxonv1alpha1.Incident, int32, error) {
	serial := hb.Status.IncidentSerial
	for range maxIncidentNameSteps {
		serial++
		inc := heartbeat.NewIncident(hb, serial)
		err := r.client.Create(ctx, inc)
		if err == nil {
			log.FromContext(ctx).Info("Heartbeat overdue: opened an incident", "heartbeat", klog.KObj(hb), "incident", klog.KObj(inc))
			return inc, serial, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, 0, fmt.Errorf("creating incident %s/%s: %w", inc.Namespace, inc.Name, err)
		}
		holder := &klaxonv1alpha1.Incident{}
		if err := r.client.Get(ctx, client.ObjectKeyFromObject(inc), holder); err != nil {
			return nil, 0, fmt.Errorf("reading incident %s/%s: %w", inc.Namespace, inc.Name, err)
		}
		if heartbeat.Opened(hb, holder) {
			return holder, serial, nil
		}
	}
	return nil, 0, fmt.Errorf("the names of heartbeat %s/%s's next %d incidents are held by other objects", hb.Namespace, hb.Name, maxIncidentNameSteps)
}

// adoptUnrecorded records in status the heartbeat's next incident when it
// exists and is open: created by an attempt whose status write was lost.
func (r *HeartbeatReconciler) adoptUnrecorded(ctx context.Context, hb *klaxonv1alpha1.Heartbeat) error {
	serial := hb.Status.IncidentSerial + 1
	inc := &klaxonv1alpha1.Incident{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: hb.Namespace, Name: heartbeat.IncidentName(hb.Name, serial)}, inc)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading incident %s/%s: %w", hb.Namespace, heartbeat.IncidentName(hb.Name, serial), err)
	}
	if heartbeat.Opened(hb, inc) {
		hb.Status.IncidentSerial = serial
		hb.Status.IncidentRef = &klaxonv1alpha1.LocalObjectReference{Name: inc.Name}
	}
	return nil
}

// resolveIncident resolves the recorded incident unless it is resolved or
// closed already (or gone). The actor annotation says the heartbeat did it;
// the operator's own writes keep the actor they set.
func (r *HeartbeatReconciler) resolveIncident(ctx context.Context, hb *klaxonv1alpha1.Heartbeat) error {
	inc := &klaxonv1alpha1.Incident{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: hb.Namespace, Name: hb.Status.IncidentRef.Name}, inc)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading incident %s/%s: %w", hb.Namespace, hb.Status.IncidentRef.Name, err)
	}
	if inc.Spec.State == klaxonv1alpha1.StateResolved || inc.Spec.State == klaxonv1alpha1.StateClosed {
		return nil
	}
	patched := inc.DeepCopy()
	patched.Spec.State = klaxonv1alpha1.StateResolved
	if patched.Annotations == nil {
		patched.Annotations = map[string]string{}
	}
	patched.Annotations[klaxonv1alpha1.ActorAnnotation] = klaxonv1alpha1.ActorHeartbeat
	if err := r.client.Patch(ctx, patched, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("resolving incident %s/%s: %w", inc.Namespace, inc.Name, err)
	}
	log.FromContext(ctx).Info("Heartbeat beating again: resolved its incident", "heartbeat", klog.KObj(hb), "incident", klog.KObj(inc))
	return nil
}

// SetupWithManager registers the reconciler. A route's change wakes the
// heartbeats naming it, and a change of an incident a heartbeat opened wakes
// that heartbeat.
func (r *HeartbeatReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.Heartbeat{}).
		Watches(&klaxonv1alpha1.AlertRoute{}, handler.EnqueueRequestsFromMapFunc(r.heartbeatsForRoute)).
		Watches(&klaxonv1alpha1.Incident{}, handler.EnqueueRequestsFromMapFunc(heartbeatOfIncident)).
		Named("heartbeat").
		Complete(r)
}

func (r *HeartbeatReconciler) heartbeatsForRoute(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &klaxonv1alpha1.HeartbeatList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		log.FromContext(ctx).Error(err, "Listing the heartbeats of a route", "alertRoute", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	for _, hb := range list.Items {
		if hb.Spec.AlertRouteRef.Name == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&hb)})
		}
	}
	return reqs
}

func heartbeatOfIncident(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetAnnotations()[klaxonv1alpha1.AnnotationHeartbeat]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
}
