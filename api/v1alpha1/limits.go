package v1alpha1

// Lengths of the status strings the operator fills from user input, as the
// CRD markers state them; the operator cuts what it writes to these, so one
// long value never makes the API server refuse a whole status patch.
// TestStatusLimitsMatchCRDs keeps them equal to the generated schemas.
const (
	// MaxUserNameLength bounds acknowledgedBy, commander, assignment names and
	// timeline actors. A Kubernetes user name can be longer (a service
	// account's is up to 339 characters).
	MaxUserNameLength = 253
	// MaxTimelineTypeLength bounds a timeline entry's type.
	MaxTimelineTypeLength = 64
	// MaxTimelineMessageLength bounds a timeline entry's message.
	MaxTimelineMessageLength = 1024
	// MaxRejectionLength bounds AlertRoute status.lastRejection.
	MaxRejectionLength = 512
	// MaxNotificationErrorLength bounds a notification's error.
	MaxNotificationErrorLength = 512
	// MaxNotificationRefLength bounds a notification's messageRef.
	MaxNotificationRefLength = 256
)
