package plugin

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// explained is an error whose message says what to do; it wraps the API
// server's error without repeating it.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

func explain(err error, format string, args ...any) error {
	return &explained{msg: fmt.Sprintf(format, args...), err: err}
}

// explainWriteError says what went wrong with a request about an incident
// and what to do about it. doing completes "cannot ...", such as
// "acknowledge incident payments/inc-x7k2p".
func explainWriteError(err error, doing, namespace, name string) error {
	switch {
	case apierrors.IsNotFound(err):
		return explain(err, "cannot %s: incident %q not found in namespace %q: list open incidents with 'kubectl klaxon status', or name the namespace with -n",
			doing, name, namespace)
	case apierrors.IsForbidden(err):
		return explain(err, "cannot %s: %s\nAsk for a Role that grants get and patch (create, to declare) on incidents.klaxon.dev in namespace %q",
			doing, apiMessage(err), namespace)
	case apierrors.IsUnauthorized(err):
		return explain(err, "cannot %s: the API server did not accept your credentials (%s): log in again, or check --context and --kubeconfig",
			doing, apiMessage(err))
	case apierrors.IsInvalid(err):
		return explain(err, "cannot %s: the API server refused it: %s", doing, apiMessage(err))
	}
	return fmt.Errorf("cannot %s: %w", doing, err)
}

// apiMessage is the API server's own message, with the causes it lists.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err.Error()
	}
	s := status.Status()
	msg := s.Message
	if s.Details != nil {
		for _, cause := range s.Details.Causes {
			if cause.Message != "" && !strings.Contains(msg, cause.Message) {
				msg += "; " + cause.Message
			}
		}
	}
	return msg
}

// explainListError says what to do when incidents cannot be listed.
func explainListError(err error, allNamespaces bool) error {
	if apierrors.IsForbidden(err) && allNamespaces {
		return explain(err, "cannot list incidents: %s\nName a namespace you may read with -n", apiMessage(err))
	}
	return explain(err, "cannot list incidents: %s", apiMessage(err))
}
