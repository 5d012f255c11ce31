package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations the receiver puts on the incidents it opens, so
// people and controllers can select the incidents of a route or of one
// Alertmanager group.
const (
	// LabelAlertRoute names the AlertRoute that opened the incident.
	LabelAlertRoute = "klaxon.dev/alert-route"
	// LabelGroup is a short hash of the Alertmanager group key; the full key
	// is in spec.source.groupKey.
	LabelGroup = "klaxon.dev/group"
	// LabelAlertname is the group's common alertname label.
	LabelAlertname = "klaxon.dev/alertname"
	// LabelAlertSeverity is the group's common value of the route's severity
	// label (such as critical), not spec.severity.
	LabelAlertSeverity = "klaxon.dev/alert-severity"
	// AnnotationGroupSerial counts the incidents opened for one group: 1 for
	// the first, one more each time the group fires after the previous
	// incident was closed or resolved longer than reopenWindow ago.
	AnnotationGroupSerial = "klaxon.dev/group-serial"
)

// SecretKeyReference names one key of a Secret in the same namespace.
type SecretKeyReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// AlertSeverityMapping turns an alert label into an incident severity.
// +kubebuilder:validation:XValidation:rule="!has(self.map) || self.map.all(k, size(k) <= 256)",message="severity.map keys are label values and must be at most 256 characters long"
type AlertSeverityMapping struct {
	// label is the alert label whose value, taken from the group's common
	// labels, picks the severity.
	// +optional
	// +kubebuilder:default=severity
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Label string `json:"label,omitempty"`

	// map gives the severity for each value of the label.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Map map[string]Severity `json:"map,omitempty"`

	// default is the severity when the label is missing or its value is not
	// in map.
	// +optional
	// +kubebuilder:default=SEV3
	Default Severity `json:"default,omitempty"`
}

// AlertRouteSpec says how Alertmanager notifications become incidents.
type AlertRouteSpec struct {
	// matchers select the alert groups this route opens incidents for, in
	// Alertmanager matcher syntax (such as severity=~"critical|page"),
	// evaluated on the group's common labels. All must match; none matches
	// every group.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1024
	Matchers []string `json:"matchers,omitempty"`

	// severity maps an alert label to the incident severity.
	// +optional
	// +kubebuilder:default={}
	Severity AlertSeverityMapping `json:"severity,omitzero"`

	// escalationPolicyRef names the EscalationPolicy of the incidents this
	// route opens.
	// +optional
	EscalationPolicyRef *LocalObjectReference `json:"escalationPolicyRef,omitempty"`

	// titleTemplate is a Go template over the webhook payload (as in
	// Alertmanager notification templates) that renders the incident title.
	// +optional
	// +kubebuilder:default=`{{ .CommonLabels.alertname }}{{ with .CommonAnnotations.summary }}: {{ . }}{{ end }}`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	TitleTemplate string `json:"titleTemplate,omitempty"`

	// autoResolve resolves the incident when every alert of its group has
	// resolved.
	// +optional
	// +kubebuilder:default=true
	AutoResolve *bool `json:"autoResolve,omitempty"`

	// reopenWindow is how long after resolution the same group firing again
	// reopens the incident instead of opening a new one.
	// +optional
	// +kubebuilder:default="30m"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$')",message="reopenWindow must be a duration of 0s or more, such as 30m or 1h30m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$') || duration(self) <= duration('720h')",message="reopenWindow must be at most 720h"
	ReopenWindow *metav1.Duration `json:"reopenWindow,omitempty"`

	// tokenSecretRef names the Secret key holding the bearer token
	// Alertmanager must send.
	// +required
	TokenSecretRef SecretKeyReference `json:"tokenSecretRef"`

	// alertmanager is the Alertmanager whose API Klaxon calls for the
	// incidents this route opens: to silence a group while its incident is
	// acknowledged.
	// +optional
	Alertmanager *AlertRouteAlertmanager `json:"alertmanager,omitempty"`
}

// AlertRouteAlertmanager is the Alertmanager API a route's incidents talk
// back to. Only the operator's leader calls it.
type AlertRouteAlertmanager struct {
	// url is the base address of Alertmanager (such as
	// http://alertmanager.monitoring:9093); Klaxon calls its API v2 under
	// /api/v2. It is readable by anyone who may view the route, so unlike
	// a webhook's URL it has no Secret alternative: it takes no query
	// string, and the credential Alertmanager asks for belongs in
	// authSecretRef.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/?#]+[^\s?#]*$`
	URL string `json:"url"`

	// authSecretRef names the Secret key holding a bearer token Klaxon sends
	// to Alertmanager. Like a channel's credentials, the Secret must carry
	// the label klaxon.dev/channel-credentials=true.
	// +optional
	AuthSecretRef *SecretKeyReference `json:"authSecretRef,omitempty"`

	// silenceOnAcknowledge silences the incident's alert group in
	// Alertmanager while the incident is acknowledged.
	// +optional
	// +kubebuilder:default=false
	SilenceOnAcknowledge *bool `json:"silenceOnAcknowledge,omitempty"`

	// silenceFor is how long each silence lasts; Klaxon extends it while the
	// incident stays acknowledged and the alerts fire.
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$')",message="silenceFor must be a duration, such as 1h or 30m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$') || (duration(self) >= duration('2m') && duration(self) <= duration('24h'))",message="silenceFor must be between 2m and 24h"
	SilenceFor *metav1.Duration `json:"silenceFor,omitempty"`
}

// AlertRouteStatus is what the operator and the receiver observed.
type AlertRouteStatus struct {
	// conditions describe the route's state; Ready is True when its
	// matchers, title template and token Secret are valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastReceivedAt is when the receiver last accepted a notification for
	// this route.
	// +optional
	LastReceivedAt *metav1.Time `json:"lastReceivedAt,omitempty"`

	// lastRejectedAt is when the receiver last refused a notification for
	// this route because its bearer token was missing or wrong. Like
	// lastReceivedAt it is written at most once a minute.
	// +optional
	LastRejectedAt *metav1.Time `json:"lastRejectedAt,omitempty"`

	// lastRejection says why the receiver refused that notification.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastRejection string `json:"lastRejection,omitempty"`

	// intakes says, for each kind of sender that reached this route, when
	// it last did and which incident its last notification opened or
	// updated.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=4
	Intakes []IntakeStatus `json:"intakes,omitempty"`
}

// IntakeStatus is what one kind of sender last did on a route.
type IntakeStatus struct {
	// name of the intake.
	// +required
	Name IntakeName `json:"name"`

	// lastReceivedAt is when the receiver last accepted a notification of
	// this intake for the route; written at most once a minute, like the
	// route's lastReceivedAt.
	// +optional
	LastReceivedAt *metav1.Time `json:"lastReceivedAt,omitempty"`

	// lastIncident is the incident the intake's last accepted notification
	// opened, moved or updated.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	LastIncident string `json:"lastIncident,omitempty"`
}

// AlertRoute says how Alertmanager notifications become incidents in this
// namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=alertroute,categories=klaxon
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Received",type=date,JSONPath=`.status.lastReceivedAt`
// +kubebuilder:printcolumn:name="Last Rejected",type=date,JSONPath=`.status.lastRejectedAt`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AlertRoute struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says how Alertmanager notifications become incidents.
	// +required
	Spec AlertRouteSpec `json:"spec"`

	// status is what the operator observed and did.
	// +optional
	Status AlertRouteStatus `json:"status,omitempty"`
}

// AlertRouteList is a list of AlertRoutes.
// +kubebuilder:object:root=true
type AlertRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AlertRoute `json:"items"`
}

func init() {
	register(&AlertRoute{}, &AlertRouteList{})
}
