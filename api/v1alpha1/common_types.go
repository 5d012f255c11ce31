package v1alpha1

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Severity ranks how bad an incident is; SEV1 is the worst.
// +kubebuilder:validation:Enum=SEV1;SEV2;SEV3;SEV4
// +kubebuilder:validation:MaxLength=4
type Severity string

// The severities, from the worst.
const (
	SeverityCritical Severity = "SEV1"
	SeverityHigh     Severity = "SEV2"
	SeverityModerate Severity = "SEV3"
	SeverityLow      Severity = "SEV4"
)

// RequiresPostmortem reports whether closing an incident of this severity
// needs a link to its post-incident review.
func (s Severity) RequiresPostmortem() bool {
	return s == SeverityCritical || s == SeverityHigh
}

const (
	// ActorAnnotation names who made the last move of an incident's spec.state.
	// Klaxon's MutatingAdmissionPolicy stamps it with the authenticated user on
	// create and on every change of spec.state, so it cannot be forged.
	ActorAnnotation = "klaxon.dev/actor"

	// OpeningAlertsAnnotation holds, as JSON, the summary of the alerts an
	// incident was opened with, set by the receiver on create. Status cannot
	// be written on create, so the reconciler's first status write copies it
	// to status.alerts: one write fewer on the way to the first page, and no
	// race between two status writers.
	OpeningAlertsAnnotation = "klaxon.dev/opening-alerts"

	// ActorAlertmanager is the actor recorded for moves made by the receiver.
	ActorAlertmanager = "alertmanager"
)
