package receiver

// The Slack command /klaxon cover (slack_commands.go) creates an
// OnCallOverride in the caller's namespace.
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncalloverrides,verbs=create
