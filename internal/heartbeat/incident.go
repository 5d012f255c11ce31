package heartbeat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

const (
	maxNameLength       = 253
	maxLabelValueLength = 63
	hashLength          = 8
)

// IncidentName is the name of the heartbeat's serial-th incident,
// heartbeat-<name>-<serial>; a name too long for that keeps its start and a
// hash of the rest. Every replica, and every restart, computes the same
// name, so a retried create hits AlreadyExists rather than duplicating.
func IncidentName(name string, serial int32) string {
	suffix := fmt.Sprintf("-%d", serial)
	full := "heartbeat-" + name + suffix
	if len(full) <= maxNameLength {
		return full
	}
	keep := maxNameLength - len("heartbeat-") - len(suffix) - hashLength - 1
	// A cut that ends in "." or "-" would make an invalid name with the "-"
	// that follows.
	return "heartbeat-" + strings.TrimRight(name[:keep], ".-") + "-" + hashOf(name) + suffix
}

// LabelValue is the value of klaxon.dev/heartbeat for a heartbeat name:
// the name, or its start and a hash when the name is too long for a label.
func LabelValue(name string) string {
	if len(name) <= maxLabelValueLength {
		return name
	}
	return name[:maxLabelValueLength-hashLength-1] + "-" + hashOf(name)
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:hashLength]
}

// Title is the title of the heartbeat's incident.
func Title(hb *klaxonv1alpha1.Heartbeat) string {
	if hb.Spec.Title != "" {
		return hb.Spec.Title
	}
	return fmt.Sprintf("Heartbeat %s is overdue", hb.Name)
}

// Severity is the severity of the heartbeat's incident, SEV2 by default.
func Severity(hb *klaxonv1alpha1.Heartbeat) klaxonv1alpha1.Severity {
	if hb.Spec.Severity == "" {
		return klaxonv1alpha1.SeverityHigh
	}
	return hb.Spec.Severity
}

// NewIncident builds the serial-th incident of an overdue heartbeat.
func NewIncident(hb *klaxonv1alpha1.Heartbeat, serial int32) *klaxonv1alpha1.Incident {
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{
			Name:      IncidentName(hb.Name, serial),
			Namespace: hb.Namespace,
			Labels:    map[string]string{klaxonv1alpha1.LabelHeartbeat: LabelValue(hb.Name)},
			Annotations: map[string]string{
				klaxonv1alpha1.AnnotationHeartbeat:    hb.Name,
				klaxonv1alpha1.AnnotationHeartbeatUID: string(hb.UID),
				klaxonv1alpha1.ActorAnnotation:        klaxonv1alpha1.ActorHeartbeat,
			},
		},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:    Title(hb),
			Severity: Severity(hb),
			Description: fmt.Sprintf("Heartbeat %s received no beat within its timeout of %s: last seen %s.",
				hb.Name, hb.Spec.Timeout.Duration, lastSeen(hb)),
			State: klaxonv1alpha1.StateTriggered,
		},
	}
	if hb.Spec.EscalationPolicyRef != nil {
		inc.Spec.EscalationPolicyRef = hb.Spec.EscalationPolicyRef.DeepCopy()
	}
	return inc
}

func lastSeen(hb *klaxonv1alpha1.Heartbeat) string {
	if hb.Status.LastSeenAt == nil {
		return "never (created " + hb.CreationTimestamp.UTC().Format(time.RFC3339) + ")"
	}
	return hb.Status.LastSeenAt.UTC().Format(time.RFC3339)
}

// Opened reports whether inc is an incident opened by this heartbeat (this
// very object, by UID, not an earlier one of the same name) that is still
// open, so a retried create may take it over.
func Opened(hb *klaxonv1alpha1.Heartbeat, inc *klaxonv1alpha1.Incident) bool {
	open := inc.Spec.State != klaxonv1alpha1.StateResolved && inc.Spec.State != klaxonv1alpha1.StateClosed
	return open && inc.Annotations[klaxonv1alpha1.AnnotationHeartbeat] == hb.Name &&
		inc.Annotations[klaxonv1alpha1.AnnotationHeartbeatUID] == string(hb.UID)
}
