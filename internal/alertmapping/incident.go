package alertmapping

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Bounds of Incident fields that NewIncident fills from the payload.
const (
	maxDescriptionLength = 8192
	maxExternalURLLength = 2048
)

// descriptionAnnotation is the common annotation copied into
// spec.description, the one Prometheus alerting rules conventionally use
// for the long text.
const descriptionAnnotation = "description"

// NewIncident builds the serial-th incident of the notification's group
// (serial is Decision.Serial, or the one after it the receiver moved on to
// past names other groups hold; 1 for the group's first), ready to create
// in namespace: named by IncidentName, labelled by Labels, attributed to
// Alertmanager, triggered, with the rendered title, the mapped severity, the
// route's escalation policy and the group as its source. Status is left
// empty because create ignores it; Decision.Alerts is the status to write
// next.
//
// A title template that fails on this payload does not stop the incident:
// the title falls back to the alert name and spec.description says what
// went wrong, so people are paged either way and can fix the route.
func NewIncident(route *Route, routeName, namespace string, serial int32, msg *Message) (*klaxonv1alpha1.Incident, error) {
	switch {
	case route == nil:
		return nil, errors.New("building an incident needs a compiled route")
	case msg == nil:
		return nil, errors.New("building an incident needs a notification")
	case routeName == "":
		return nil, errors.New("building an incident needs the AlertRoute's name")
	case msg.GroupKey == "":
		return nil, errors.New("building an incident needs the notification's groupKey")
	}
	if serial < 1 {
		serial = 1
	}

	title, titleErr := route.Title(msg)
	description := msg.CommonAnnotations[descriptionAnnotation]
	if titleErr != nil {
		note := fmt.Sprintf("The title template of AlertRoute %s failed on this notification, so the title is a fallback; fix spec.titleTemplate: %v", routeName, titleErr)
		if description != "" {
			description += "\n\n"
		}
		description += note
	}
	description = bounded.Runes(description, maxDescriptionLength)

	source := &klaxonv1alpha1.IncidentSource{AlertRoute: routeName, GroupKey: msg.GroupKey}
	// An address too long for the field is left out rather than cut into a
	// broken link.
	if utf8.RuneCountInString(msg.ExternalURL) <= maxExternalURLLength {
		source.ExternalURL = msg.ExternalURL
	}

	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{
			Name:      IncidentName(routeName, msg.GroupKey, serial),
			Namespace: namespace,
			Labels:    Labels(route, routeName, msg),
			// The serial annotation is for people to read; the receiver
			// reads the serial back from the immutable name (Serial).
			Annotations: map[string]string{
				klaxonv1alpha1.ActorAnnotation:       klaxonv1alpha1.ActorAlertmanager,
				klaxonv1alpha1.AnnotationGroupSerial: strconv.FormatInt(int64(serial), 10),
			},
		},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:       title,
			Description: description,
			Severity:    route.Severity(msg),
			State:       klaxonv1alpha1.StateTriggered,
			Source:      source,
		},
	}
	if route.escalation != nil {
		inc.Spec.EscalationPolicyRef = route.escalation.DeepCopy()
	}
	return inc, nil
}
