package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/escalation"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// maxAssignments is how many assignments status keeps; the oldest go first.
const maxAssignments = 100

// errScheduleNotReady marks a schedule that exists but cannot say who is on call.
var errScheduleNotReady = errors.New("schedule is not valid")

// reconcileEscalation pages the incident's escalation policy while it is
// Triggered, one step at a time, from the timestamps persisted in status.
// Acknowledgement, or any later phase, stops it; a reopen has cleared
// status.escalation so it starts again at level 0. A maintenance window
// holds or suppresses it (holdForMaintenance).
func (r *IncidentReconciler) reconcileEscalation(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	st := &inc.Status
	ref := inc.Spec.EscalationPolicyRef
	// A maintenance window may hold paging, or suppress it for the episode.
	if held, result, err := r.holdForMaintenance(ctx, s); err != nil || held {
		return result, err
	}
	// TriggeredAt is set with the phase (lifecycle.Repair restores it), so
	// its absence only means there is no episode to page for.
	if ref == nil || st.Phase != klaxonv1alpha1.StateTriggered || st.TriggeredAt == nil {
		if st.Escalation != nil {
			st.Escalation.NextEscalationAt = nil
		}
		return ctrl.Result{}, nil
	}

	pol := &klaxonv1alpha1.EscalationPolicy{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: ref.Name}, pol); err != nil {
		if apierrors.IsNotFound(err) {
			// The policy's creation wakes this incident.
			s.problem = waitingFor(klaxonv1alpha1.ReasonPolicyNotFound,
				fmt.Sprintf("EscalationPolicy %s not found in namespace %s; paging starts when it exists", ref.Name, inc.Namespace), 0)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading EscalationPolicy %s: %w", ref.Name, err)
	}

	decision, err := escalation.Plan(escalation.Input{
		Policy:      &pol.Spec,
		Status:      st.Escalation,
		Assignments: st.Assignments,
		TriggeredAt: st.TriggeredAt.Time,
		OnCall:      escalation.ResolveSchedules(&pol.Spec, r.onCallNow(ctx, inc.Namespace, s.now)),
		Now:         s.now,
	})
	var resolveErr *escalation.ResolveError
	switch {
	case errors.As(err, &resolveErr) && apierrors.IsNotFound(err):
		s.problem = waitingFor(klaxonv1alpha1.ReasonScheduleNotFound,
			fmt.Sprintf("Cannot page level %d: OnCallSchedule %s not found in namespace %s; paging resumes when it exists",
				resolveErr.Level, resolveErr.Schedule, inc.Namespace), 0)
		return ctrl.Result{}, nil
	case errors.As(err, &resolveErr) && errors.Is(err, errScheduleNotReady):
		s.problem = waitingFor(klaxonv1alpha1.ReasonScheduleNotReady,
			fmt.Sprintf("Cannot page level %d: %v", resolveErr.Level, err), 0)
		return ctrl.Result{}, nil
	case errors.Is(err, escalation.ErrInvalidPolicy):
		s.problem = stalledBy(klaxonv1alpha1.ReasonInvalidPolicy, fmt.Sprintf("EscalationPolicy %s cannot page: %v", ref.Name, err))
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("planning escalation along %s: %w", ref.Name, err)
	}

	st.Escalation = decision.Status
	if page := decision.Page; page != nil {
		if err := r.planDeliveries(ctx, s, page); err != nil {
			return ctrl.Result{}, err
		}
		st.Assignments = append(st.Assignments, page.Assignments...)
		if over := len(st.Assignments) - maxAssignments; over > 0 {
			st.Assignments = append([]klaxonv1alpha1.Assignment(nil), st.Assignments[over:]...)
		}
		msg := pageMessage(page)
		reason := klaxonv1alpha1.TimelinePaged
		if page.Level > 0 || page.Round > 0 {
			reason = klaxonv1alpha1.TimelineEscalated
		}
		lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now), Type: reason, Message: msg})
		announcePage(s, reason, msg)
		log.FromContext(ctx).Info("Paged", "level", page.Level, "round", page.Round, "people", names(page.Assignments))
		s.afterStore(countPage(inc, page))
	}
	var result ctrl.Result
	if !decision.NextAt.IsZero() {
		result.RequeueAfter = max(decision.NextAt.Sub(s.now), time.Millisecond)
	}
	return result, nil
}

// onCallNow says who is on call at t on a schedule of the namespace,
// everyone with the OnCallOverrides applied, from the cache, so that
// planning itself needs no client.
func (r *IncidentReconciler) onCallNow(ctx context.Context, namespace string, t time.Time) func(string) ([]string, error) {
	var overrides []klaxonv1alpha1.OnCallOverride
	listed := false
	return func(name string) ([]string, error) {
		sched := &klaxonv1alpha1.OnCallSchedule{}
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, sched); err != nil {
			return nil, err
		}
		compiled, err := oncall.Compile(&sched.Spec)
		if err != nil {
			return nil, fmt.Errorf("OnCallSchedule %s: %w: %w", name, errScheduleNotReady, err)
		}
		if !listed {
			// One list serves every schedule the policy names.
			if overrides, err = overridesOf(ctx, r.client, namespace); err != nil {
				return nil, err
			}
			listed = true
		}
		return compiled.WithOverrides(name, overrides).At(t), nil
	}
}

// reconcilePagingConditions derives RespondersAssigned, Escalated and
// EscalationExhausted from status and the problem paging ran into, if any,
// and the commander, who may be the first person paged.
func (r *IncidentReconciler) reconcilePagingConditions(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	st := &inc.Status
	defer func() { st.Commander = lifecycle.Commander(inc) }()
	paged := episodeAssignments(st)
	var result ctrl.Result
	reported := false // whether the problem was reported (with its Event) yet
	switch {
	case len(paged) > 0:
		conditions.Set(inc, klaxonv1alpha1.ConditionRespondersAssigned, true, klaxonv1alpha1.ReasonPaged,
			"Paged "+strings.Join(names(paged), ", "), s.now)
	case inc.Spec.Commander != "" || len(inc.Spec.Responders) > 0:
		conditions.Set(inc, klaxonv1alpha1.ConditionRespondersAssigned, true, klaxonv1alpha1.ReasonAssigned,
			"Responders were named by hand", s.now)
	case s.problem != nil:
		result = report(ctx, s, klaxonv1alpha1.ConditionRespondersAssigned, s.problem, "", "", "Page")
		reported = true
	case inc.Spec.EscalationPolicyRef == nil:
		conditions.Set(inc, klaxonv1alpha1.ConditionRespondersAssigned, false, klaxonv1alpha1.ReasonNobodyAssigned,
			"No escalation policy and nobody named: set spec.escalationPolicyRef, spec.commander or spec.responders", s.now)
	}
	if inc.Spec.EscalationPolicyRef == nil {
		return result, nil
	}
	esc := st.Escalation
	switch {
	case s.problem != nil && reported:
		conditions.Set(inc, klaxonv1alpha1.ConditionEscalated, false, s.problem.reason, s.problem.message, s.now)
	case s.problem != nil:
		// Someone was paged, or named by hand, but paging cannot go on: say
		// so where people look for escalation, with its Event.
		result = report(ctx, s, klaxonv1alpha1.ConditionEscalated, s.problem, "", "", "Page")
	case esc != nil && (esc.Level > 0 || esc.Round > 0):
		conditions.Set(inc, klaxonv1alpha1.ConditionEscalated, true, klaxonv1alpha1.ReasonEscalated,
			fmt.Sprintf("Paged level %d of round %d", esc.Level, esc.Round), s.now)
	default:
		conditions.Set(inc, klaxonv1alpha1.ConditionEscalated, false, klaxonv1alpha1.ReasonNotEscalated,
			"Paging has not moved past level 0", s.now)
	}
	if esc != nil && esc.Exhausted {
		conditions.Set(inc, klaxonv1alpha1.ConditionEscalationExhausted, true, klaxonv1alpha1.ReasonExhausted,
			"Every level was paged and nobody acknowledged", s.now)
	} else {
		conditions.Set(inc, klaxonv1alpha1.ConditionEscalationExhausted, false, klaxonv1alpha1.ReasonNotEscalated,
			"Escalation is not exhausted", s.now)
	}
	return result, nil
}

// episodeAssignments are the assignments made since the current episode began.
func episodeAssignments(st *klaxonv1alpha1.IncidentStatus) []klaxonv1alpha1.Assignment {
	if st.TriggeredAt == nil {
		return nil
	}
	since := st.TriggeredAt.Truncate(time.Second)
	var out []klaxonv1alpha1.Assignment
	for _, a := range st.Assignments {
		if !a.NotifiedAt.Time.Before(since) {
			out = append(out, a)
		}
	}
	return out
}

func pageMessage(p *escalation.Page) string {
	var b strings.Builder
	if len(p.Assignments) == 0 {
		fmt.Fprintf(&b, "Nobody to page at level %d", p.Level)
	} else {
		var who []string
		for _, a := range p.Assignments {
			if a.Schedule != "" {
				who = append(who, fmt.Sprintf("%s (on call for %s)", a.Name, a.Schedule))
			} else {
				who = append(who, a.Name)
			}
		}
		fmt.Fprintf(&b, "Paged %s at level %d", strings.Join(who, ", "), p.Level)
	}
	if p.Round > 0 {
		fmt.Fprintf(&b, ", round %d", p.Round)
	}
	if len(p.NobodyOnCall) > 0 {
		fmt.Fprintf(&b, "; nobody on call for %s", strings.Join(p.NobodyOnCall, ", "))
	}
	return b.String()
}

func names(as []klaxonv1alpha1.Assignment) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

// announcePage records the page's Event. A page made in the reconcile that
// accepted the trigger joins the trigger's Event, "Triggered …; Paged …",
// so that an alert costs one Event rather than two: in a storm, Events
// were half of the API server's writes.
func announcePage(s *incidentScope, reason, msg string) {
	for i := range s.events {
		e := &s.events[i]
		if e.eventType == corev1.EventTypeNormal && e.action == "Transition" && e.reason == klaxonv1alpha1.TimelineTriggered {
			e.reason, e.action, e.note = reason, "Page", e.note+"; "+msg
			return
		}
	}
	s.record(corev1.EventTypeNormal, reason, "Page", msg)
}
