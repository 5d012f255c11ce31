package v1alpha1

// Reporting labels on every Incident, so incidents can be selected by
// severity and service (`kubectl get inc -l klaxon.dev/severity=SEV1`). The
// API server keeps them equal to the spec on every write, through the
// klaxon-incident-labels admission policy (config/admission/labels_policy.yaml);
// values set by hand are overwritten.
const (
	// LabelSeverity is spec.severity, SEV3 when unset.
	LabelSeverity = "klaxon.dev/severity"
	// LabelService is spec.service when it is a valid label value (at most
	// 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric);
	// absent when spec.service is unset or not a valid label value.
	LabelService = "klaxon.dev/service"
)
