package controller

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify/ntfy"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// ResponderReconciler reports whether each responder can be reached: Ready
// is False while a contact names a channel that is missing or not Ready,
// or a twilio channel with an address that is no phone number. It
// never writes a responder's spec, which GitOps owns.
type ResponderReconciler struct {
	reconciler
}

// NewResponderReconciler returns a ResponderReconciler.
func NewResponderReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *ResponderReconciler {
	return &ResponderReconciler{newReconciler(c, recorder, opts)}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=responders,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=responders/status,verbs=patch

// Reconcile checks the channels the responder's contacts name.
func (r *ResponderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.Responder{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready. A channel's change wakes the responder (see
// SetupWithManager), so waiting needs no requeue.
func (r *ResponderReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.Responder]) (ctrl.Result, error) {
	resp := s.obj
	p, notes, err := r.check(ctx, resp)
	if err != nil {
		return ctrl.Result{}, err
	}
	ok := fmt.Sprintf("%s, %s, every channel Ready", count(len(resp.Spec.Contacts), "contact"), count(len(resp.Spec.Rules), "rule"))
	if len(notes) > 0 {
		ok += "; " + strings.Join(notes, "; ")
	}
	return report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonValid, ok, "Validate"), nil
}

// check returns why the responder cannot be reached, if it cannot, and
// notes on contacts that work but not as written.
func (r *ResponderReconciler) check(ctx context.Context, resp *klaxonv1alpha1.Responder) (*problem, []string, error) {
	var missing, notReady, invalid, notes []string
	for _, c := range resp.Spec.Contacts {
		ch := &klaxonv1alpha1.NotificationChannel{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: resp.Namespace, Name: c.Channel}, ch)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Sprintf("%s (contact %s)", c.Channel, c.Name))
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("reading NotificationChannel %s/%s: %w", resp.Namespace, c.Channel, err)
		case !meta.IsStatusConditionTrue(ch.Status.Conditions, klaxonv1alpha1.ConditionReady):
			notReady = append(notReady, describeNotReady(c, ch))
		}
		bad, note := checkPhoneContact(c, ch)
		if bad != "" {
			invalid = append(invalid, bad)
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	switch {
	case len(invalid) > 0:
		return stalledBy(klaxonv1alpha1.ReasonInvalidContact, strings.Join(invalid, "; ")), nil, nil
	case len(missing) > 0:
		return waitingFor(klaxonv1alpha1.ReasonChannelNotFound,
			fmt.Sprintf("NotificationChannel %s not found in namespace %s", strings.Join(missing, ", "), resp.Namespace), 0), nil, nil
	case len(notReady) > 0:
		return waitingFor(klaxonv1alpha1.ReasonChannelNotReady,
			fmt.Sprintf("NotificationChannel %s is not Ready", strings.Join(notReady, ", ")), 0), nil, nil
	}
	return nil, notes, nil
}

// checkPhoneContact checks a contact against its channel's kind: a twilio
// contact's address must be a phone number in E.164 form (the CRD checks
// that only for contacts that say their kind), an ntfy contact's a topic. A kind on a contact of any
// other channel is ignored, which the Ready message notes: the contact
// still works, just not as its author may think. Neither says the address
// in full.
func checkPhoneContact(c klaxonv1alpha1.Contact, ch *klaxonv1alpha1.NotificationChannel) (invalid, note string) {
	switch {
	case ch.Spec.Twilio != nil && !phone.IsNumber(c.Address):
		return fmt.Sprintf("contact %s: its address %s is not a phone number in E.164 form, such as +4915112345678, which channel %s texts and calls",
			c.Name, phone.Mask(c.Address), c.Channel), ""
	case ch.Spec.Ntfy != nil && !ntfy.IsTopic(c.Address):
		// A topic on a public server is as good as a password: not quoted.
		return fmt.Sprintf("contact %s: its address is not an ntfy topic (%s), which channel %s pushes to",
			c.Name, ntfy.TopicRule, c.Channel), ""
	case ch.Spec.Twilio == nil && c.Kind != "":
		return "", fmt.Sprintf("contact %s: kind %s is ignored, channel %s is not a twilio channel", c.Name, c.Kind, c.Channel)
	}
	return "", ""
}

// describeNotReady names a contact's channel that is not Ready, with the
// channel's reason when it has one, so the responder tells what to fix.
func describeNotReady(c klaxonv1alpha1.Contact, ch *klaxonv1alpha1.NotificationChannel) string {
	if cond := meta.FindStatusCondition(ch.Status.Conditions, klaxonv1alpha1.ConditionReady); cond != nil && cond.Reason != "" {
		return fmt.Sprintf("%s (contact %s: %s)", c.Channel, c.Name, cond.Reason)
	}
	return fmt.Sprintf("%s (contact %s)", c.Channel, c.Name)
}

// count says n things, with the noun in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// SetupWithManager registers the reconciler; a channel's change wakes the
// responders of its namespace whose contacts name it.
func (r *ResponderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.Responder{}).
		Watches(&klaxonv1alpha1.NotificationChannel{}, handler.EnqueueRequestsFromMapFunc(r.respondersForChannel)).
		Named("responder").
		Complete(r)
}

func (r *ResponderReconciler) respondersForChannel(ctx context.Context, obj client.Object) []reconcile.Request {
	return respondersNaming(ctx, r.client, obj.GetNamespace(), obj.GetName())
}
