package plugin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
)

// move is one lifecycle verb: the state it asks for in spec.state.
type move struct {
	verb    string
	aliases []string
	to      klaxonv1alpha1.IncidentState
	done    string
	short   string
	long    string
}

// moves are the lifecycle verbs, in lifecycle order.
var moves = []move{
	{
		verb: "ack", aliases: []string{"acknowledge"}, to: klaxonv1alpha1.StateAcknowledged, done: "acknowledged",
		short: "Acknowledge an incident: you are on it, and paging stops",
		long:  "Acknowledge an incident: you are on it. Escalation stops, and the API server records you as the one who acknowledged it.",
	},
	{
		verb: "mitigate", to: klaxonv1alpha1.StateMitigated, done: "mitigated",
		short: "Mark an incident mitigated: the impact is contained, the cause may remain",
		long:  "Mark an incident mitigated: the impact is contained, though the cause may remain.",
	},
	{
		verb: "resolve", to: klaxonv1alpha1.StateResolved, done: "resolved",
		short: "Resolve an incident: the problem is gone",
		long:  "Resolve an incident: the problem is gone. A SEV1 or SEV2 incident then waits for its postmortem before it can be closed.",
	},
	{
		verb: "reopen", to: klaxonv1alpha1.StateTriggered, done: "reopened",
		short: "Reopen a mitigated or resolved incident: the problem is back",
		long:  "Reopen a mitigated or resolved incident: the problem is back. A new episode begins and paging starts again from the first level.",
	},
	{
		verb: "close", to: klaxonv1alpha1.StateClosed, done: "closed",
		short: "Close an incident (SEV1 and SEV2 need --postmortem URL)",
		long: "Close an incident for good: Closed is final. Closing a SEV1 or SEV2 incident needs a link to its post-incident review; " +
			"--postmortem sets spec.postmortem.url in the same write.",
	},
}

// allowedMoves are the verbs the API server accepts from a state, other
// than staying put.
func allowedMoves(from klaxonv1alpha1.IncidentState) []string {
	var verbs []string
	for _, m := range moves {
		if m.to != from && lifecycle.Allowed(from, m.to) {
			verbs = append(verbs, m.verb)
		}
	}
	return verbs
}

// desiredState is the state an incident was last asked to be in.
func desiredState(inc *klaxonv1alpha1.Incident) klaxonv1alpha1.IncidentState {
	if inc.Spec.State == "" {
		return klaxonv1alpha1.StateTriggered
	}
	return inc.Spec.State
}

func (c *command) moveCommand(m move) *cobra.Command {
	var postmortem, output string
	cmd := &cobra.Command{
		Use:     m.verb + " INCIDENT",
		Aliases: m.aliases,
		GroupID: "incident",
		Short:   m.short,
		Long: m.long + `

This is one write of spec.state (a JSON merge patch). The API server checks
the move against the lifecycle and refuses a forbidden one, saying which
state the incident is in; the plugin then lists the moves allowed from there.
The API server also records who made the move, in the klaxon.dev/actor
annotation, which the operator copies to the timeline.`,
		Example: fmt.Sprintf("  kubectl klaxon %s inc-x7k2p -n payments", m.verb),
		Args:    oneArg("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.move(cmd, m, args[0], postmortem, output)
		},
		ValidArgsFunction: c.completeIncidents(func(inc *klaxonv1alpha1.Incident) bool {
			from := desiredState(inc)
			return from != m.to && lifecycle.Allowed(from, m.to)
		}),
	}
	if m.to == klaxonv1alpha1.StateClosed {
		cmd.Example = "  kubectl klaxon close inc-x7k2p --postmortem https://wiki.example.com/pm/123"
		cmd.Flags().StringVar(&postmortem, "postmortem", "", "URL of the post-incident review, set as spec.postmortem.url in the same write (needed for SEV1 and SEV2).")
		_ = cmd.RegisterFlagCompletionFunc("postmortem", cobra.NoFileCompletions)
	}
	addOutputFlag(cmd, &output, outputName, outputJSON, outputYAML)
	return cmd
}

func (c *command) move(cmd *cobra.Command, m move, name, postmortem, output string) error {
	if postmortem != "" {
		if u, err := url.Parse(postmortem); err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("--postmortem %q is not an absolute URL: give the review's address, such as https://wiki.example.com/pm/123", postmortem)
		}
	}
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	spec := map[string]any{"state": m.to}
	if postmortem != "" {
		spec["postmortem"] = map[string]any{"url": postmortem}
	}
	patch, err := json.Marshal(map[string]any{"spec": spec})
	if err != nil {
		return fmt.Errorf("encoding the patch: %w", err)
	}
	inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err = k8s.Patch(cmd.Context(), inc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return explainMoveError(err, m, ns, name)
	}
	if output != "" {
		return printObjects(c.Streams.Out, output, false, inc)
	}
	by := ""
	if actor := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; actor != "" {
		by = " by " + actor
	}
	_, err = fmt.Fprintf(c.Streams.Out, "incident.klaxon.dev/%s %s%s\n", inc.Name, m.done, by)
	return err
}

// The CEL messages of the Incident CRD (api/v1alpha1/incident_types.go)
// that the plugin turns into advice.
var (
	refusedMove      = regexp.MustCompile(`cannot move incident from (\w+) to (\w+)`)
	postmortemNeeded = regexp.MustCompile(`closing a (\w+) incident needs spec\.postmortem\.url`)
)

// explainMoveError turns the API server's refusal of a move into what the
// person can do instead.
func explainMoveError(err error, m move, ns, name string) error {
	doing := fmt.Sprintf("%s incident %s/%s", m.verb, ns, name)
	if !apierrors.IsInvalid(err) {
		return explainWriteError(err, doing, ns, name)
	}
	msg := apiMessage(err)
	if match := refusedMove.FindStringSubmatch(msg); match != nil {
		from := klaxonv1alpha1.IncidentState(match[1])
		return explain(err, "cannot %s: the API server refused the move: %s\n%s", doing, celMessage(msg), adviceFrom(from, ns, name))
	}
	if match := postmortemNeeded.FindStringSubmatch(msg); match != nil {
		return explain(err, "cannot %s: the API server refused it: %s\nLink the review in the same write: kubectl klaxon close %s -n %s --postmortem URL",
			doing, celMessage(msg), name, ns)
	}
	return explainWriteError(err, doing, ns, name)
}

// celMessage is the CEL rule's message out of the API server's, without
// the field path and value that precede it.
func celMessage(msg string) string {
	for _, marker := range []string{"cannot move incident", "closing a "} {
		if i := strings.Index(msg, marker); i >= 0 {
			msg = msg[i:]
			if j := strings.IndexAny(msg, ";]"); j >= 0 {
				msg = msg[:j]
			}
			return strings.TrimSuffix(strings.TrimSpace(msg), ",")
		}
	}
	return msg
}

// adviceFrom says which moves the API server accepts from the state.
func adviceFrom(from klaxonv1alpha1.IncidentState, ns, name string) string {
	verbs := allowedMoves(from)
	if len(verbs) == 0 {
		return fmt.Sprintf("The incident is %s, and %s is final: nothing moves it. If the problem is back, declare a new incident: kubectl klaxon declare TITLE -n %s",
			from, from, ns)
	}
	return fmt.Sprintf("The incident is %s; the moves allowed from %s are: %s. For example: kubectl klaxon %s %s -n %s",
		from, from, strings.Join(verbs, ", "), verbs[0], name, ns)
}
