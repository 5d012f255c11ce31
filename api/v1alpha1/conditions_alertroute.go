package v1alpha1

// Condition reasons for alert routes, CamelCase. They complement
// conditions.go and conditions_oncall.go: a Ready route uses ReasonValid, and
// a route whose escalation policy is missing uses ReasonPolicyNotFound.
const (
	// ReasonInvalidMatcher: Ready is False because an entry of spec.matchers
	// is not valid Alertmanager matcher syntax.
	ReasonInvalidMatcher = "InvalidMatcher"
	// ReasonInvalidRoute: Ready is False because another part of the
	// AlertRoute spec is invalid, such as an unknown severity.
	ReasonInvalidRoute = "InvalidRoute"
	// ReasonInvalidTitleTemplate: Ready is False because spec.titleTemplate
	// is not a valid Go template.
	ReasonInvalidTitleTemplate = "InvalidTitleTemplate"
	// ReasonTokenSecretNotFound: Ready is False because the Secret named by
	// spec.tokenSecretRef does not exist, so every notification is refused.
	ReasonTokenSecretNotFound = "TokenSecretNotFound"
	// ReasonTokenKeyNotFound: Ready is False because the Secret exists but
	// has no non-empty value under spec.tokenSecretRef.key.
	ReasonTokenKeyNotFound = "TokenKeyNotFound"
	// ReasonTokenSecretForbidden: Ready is False because the operator may
	// not read the Secret named by spec.tokenSecretRef: the namespace has not
	// granted it (README, "Security").
	ReasonTokenSecretForbidden = "TokenSecretForbidden"
)
