package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelChannelSecret marks a Secret whose keys NotificationChannels may
// use as credentials. Without it a channel could send any Secret of the
// namespace (a service account token, say) to a server of its author's
// choosing; labelling a Secret needs write access to it.
const LabelChannelSecret = "klaxon.dev/channel-credentials"

// EmailChannel sends pages as mail through an SMTP server.
type EmailChannel struct {
	// smarthost is the SMTP server as host:port. Port 465 speaks TLS from
	// the first byte; any other port upgrades with STARTTLS when the server
	// offers it (and must, with requireTLS).
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^\s:]+:[0-9]{1,5}$`
	Smarthost string `json:"smarthost"`

	// from is the sender address.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	From string `json:"from"`

	// username to authenticate with; authentication is used when set.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Username string `json:"username,omitempty"`

	// authSecretRef names the Secret key holding the password.
	// +optional
	AuthSecretRef *SecretKeyReference `json:"authSecretRef,omitempty"`

	// requireTLS refuses to send over a connection that is not encrypted.
	// +optional
	// +kubebuilder:default=true
	RequireTLS *bool `json:"requireTLS,omitempty"`
}

// SlackChannel posts pages with a Slack bot token (chat.postMessage).
// +kubebuilder:validation:XValidation:rule="!(has(self.apiURL) && has(self.apiURLSecretRef))",message="set at most one of apiURL and apiURLSecretRef"
type SlackChannel struct {
	// tokenSecretRef names the Secret key holding the bot token (xoxb-...).
	// +required
	TokenSecretRef SecretKeyReference `json:"tokenSecretRef"`

	// signingSecretRef names the Secret key holding the app's signing
	// secret, which verifies button presses.
	// +optional
	SigningSecretRef *SecretKeyReference `json:"signingSecretRef,omitempty"`

	// apiURL is the base URL of the Web API, for Slack-compatible servers;
	// unset (and without apiURLSecretRef) it is Slack's public Web API,
	// https://slack.com/api/. It is readable by anyone who may view the
	// channel: a URL that carries a credential belongs in apiURLSecretRef.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="apiURL must be an http or https URL"
	APIURL string `json:"apiURL,omitempty"`

	// apiURLSecretRef names the Secret key holding the base URL of the Web
	// API, for Slack-compatible servers whose URL carries a credential.
	// At most one of apiURL and apiURLSecretRef is set.
	// +optional
	APIURLSecretRef *SecretKeyReference `json:"apiURLSecretRef,omitempty"`

	// incidentChannels opens a Slack channel for each incident of the
	// severities listed, in the namespace's first Slack NotificationChannel
	// (by name) that lists its severity. The app's token needs the
	// channels:manage (or groups:write), channels:read and chat:write
	// scopes.
	// +optional
	IncidentChannels *SlackIncidentChannels `json:"incidentChannels,omitempty"`
}

// SlackIncidentChannels says which incidents get a Slack channel of their
// own, and for how long. Klaxon creates the channel (conversations.create),
// invites the people paged and the commander, posts the page and each
// update and move there, keeps its topic to the severity, phase and
// commander, and archives it archiveAfter the incident is closed.
type SlackIncidentChannels struct {
	// severities whose incidents get a channel.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4
	Severities []Severity `json:"severities"`

	// archiveAfter is how long after the incident is closed its channel is
	// archived: from 0s (at once) to 8760h.
	// +optional
	// +kubebuilder:default="72h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('8760h')",message="archiveAfter must be from 0s to 8760h"
	ArchiveAfter *metav1.Duration `json:"archiveAfter,omitempty"`

	// prefix starts each channel's name, which continues with the
	// incident's name: "inc" makes #inc-checkout-latency.
	// +optional
	// +kubebuilder:default="inc"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9_-]*$`
	Prefix string `json:"prefix,omitempty"`
}

// WebhookChannel posts Klaxon's own JSON payload (version klaxon.dev/v1).
// +kubebuilder:validation:XValidation:rule="has(self.url) != has(self.urlSecretRef)",message="set exactly one of url and urlSecretRef"
type WebhookChannel struct {
	// url receives the POSTs. A contact's address is sent in the payload.
	// It is readable by anyone who may view the channel: a URL that
	// carries a credential (a token in its path or query) belongs in
	// urlSecretRef.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="url must be an http or https URL"
	URL string `json:"url,omitempty"`

	// urlSecretRef names the Secret key holding the URL that receives the
	// POSTs, for a URL that carries a credential. Exactly one of url and
	// urlSecretRef is set.
	// +optional
	URLSecretRef *SecretKeyReference `json:"urlSecretRef,omitempty"`

	// tokenSecretRef names the Secret key holding a bearer token sent in
	// the Authorization header.
	// +optional
	TokenSecretRef *SecretKeyReference `json:"tokenSecretRef,omitempty"`
}

// AlertmanagerChannel sends through one of Alertmanager's receivers.
type AlertmanagerChannel struct {
	// receiverSecretRef names the Secret key holding one Alertmanager
	// receiver block in YAML (msteamsv2_configs, telegram_configs,
	// discord_configs, pagerduty_configs, ...), checked with Alertmanager's
	// own configuration loader. Its name is ignored. A contact's address
	// is passed as the alert label "address".
	// +required
	ReceiverSecretRef SecretKeyReference `json:"receiverSecretRef"`
}

// TwilioChannel texts and calls phones through Twilio's REST API, or any
// provider that speaks it at baseURL. A contact of this channel says its
// kind, sms or voice, and has a phone number in E.164 form as its address.
type TwilioChannel struct {
	// accountSIDSecretRef names the Secret key holding the account SID
	// (AC...), the user name of the API's basic authentication.
	// +required
	AccountSIDSecretRef SecretKeyReference `json:"accountSIDSecretRef"`

	// authTokenSecretRef names the Secret key holding the account's auth
	// token: the password of the API's basic authentication, and the key
	// that signs Twilio's callbacks (X-Twilio-Signature).
	// +required
	AuthTokenSecretRef SecretKeyReference `json:"authTokenSecretRef"`

	// from is the number texts and calls come from, in E.164 form, such as
	// +15005550006. Replies to it reach Klaxon when the number's messaging
	// webhook is POST {public URL}/twilio/{namespace}/{channel}/sms.
	// +required
	// +kubebuilder:validation:MinLength=8
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:Pattern=`^\+[1-9][0-9]{6,14}$`
	From string `json:"from"`

	// baseURL is the REST API's base URL, for providers with Twilio's API;
	// unset, it is https://api.twilio.com.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="baseURL must be an http or https URL"
	BaseURL string `json:"baseURL,omitempty"`

	// limits cap the texts and calls sent in any hour.
	// +optional
	Limits *PhoneLimits `json:"limits,omitempty"`
}

// PhoneLimits cap the texts and calls a channel sends in any hour (the
// last 60 minutes), so that a storm or a loop cannot ring a phone all
// night or run up a bill. A page over a cap fails with a Warning Event,
// and the person's next rule, or the next level, takes over.
type PhoneLimits struct {
	// perResponderPerHour caps the texts and calls to one responder; 10
	// when unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	PerResponderPerHour *int32 `json:"perResponderPerHour,omitempty"`

	// perHour caps the texts and calls of the whole channel; 100 when
	// unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	PerHour *int32 `json:"perHour,omitempty"`
}

// NtfyChannel publishes push notifications to an ntfy server. A contact's
// address is the topic.
type NtfyChannel struct {
	// url is the ntfy server, such as https://ntfy.sh or a self-hosted one.
	// +required
	// +kubebuilder:validation:MinLength=8
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="url must be an http or https URL"
	URL string `json:"url"`

	// tokenSecretRef names the Secret key holding an access token (tk_...),
	// sent as a bearer token, for servers or topics that require one.
	// +optional
	TokenSecretRef *SecretKeyReference `json:"tokenSecretRef,omitempty"`
}

// NotificationChannelSpec is how to send; exactly one kind is set.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:XValidation:rule="[has(self.email), has(self.slack), has(self.webhook), has(self.alertmanager), has(self.twilio), has(self.ntfy)].filter(x, x).size() == 1",message="set exactly one of email, slack, webhook, alertmanager, twilio or ntfy"
type NotificationChannelSpec struct {
	// email sends mail through an SMTP server; a contact's address is the
	// recipient.
	// +optional
	Email *EmailChannel `json:"email,omitempty"`

	// slack posts with a bot token; a contact's address is a user or
	// channel ID, or #channel.
	// +optional
	Slack *SlackChannel `json:"slack,omitempty"`

	// webhook posts Klaxon's JSON payload.
	// +optional
	Webhook *WebhookChannel `json:"webhook,omitempty"`

	// alertmanager sends through an Alertmanager receiver.
	// +optional
	Alertmanager *AlertmanagerChannel `json:"alertmanager,omitempty"`

	// twilio texts and calls phones; a contact's kind (sms or voice) says
	// which, and its address is the phone number.
	// +optional
	Twilio *TwilioChannel `json:"twilio,omitempty"`

	// ntfy publishes push notifications to an ntfy server; a contact's
	// address is the topic.
	// +optional
	Ntfy *NtfyChannel `json:"ntfy,omitempty"`

	// bundleAfter is, for contacts through this channel whose rule does
	// not say, how many messages a contact may be sent within bundleWindow
	// before further pages wait and go out together as one message; 0
	// turns bundling off. Default 3.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	BundleAfter *int32 `json:"bundleAfter,omitempty"`

	// bundleWindow is the window bundleAfter counts in, for contacts
	// whose rule does not say. Default 30s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('1h')",message="bundleWindow must be a duration from 1s to 1h, such as 30s"
	BundleWindow *metav1.Duration `json:"bundleWindow,omitempty"`
}

// NotificationChannelStatus is what the operator observed.
type NotificationChannelStatus struct {
	// conditions describe the channel's state; Ready is True when its
	// settings and Secrets are valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// NotificationChannel is a way to send pages: mail, Slack, a webhook, any
// Alertmanager receiver, texts and calls through Twilio, or ntfy push.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=channel,categories=klaxon
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NotificationChannel struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says how to send.
	// +required
	Spec NotificationChannelSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status NotificationChannelStatus `json:"status,omitempty"`
}

// NotificationChannelList is a list of NotificationChannels.
// +kubebuilder:object:root=true
type NotificationChannelList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NotificationChannel `json:"items"`
}

func init() {
	register(&NotificationChannel{}, &NotificationChannelList{})
}
