package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Limits of spec.updates in the Incident CRD.
const (
	maxUpdates      = 256
	maxAuthorLength = 253
	maxMessageLen   = 2048
)

// appendAttempts bounds the retries when someone else adds the first
// update at the same moment.
const appendAttempts = 5

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func (c *command) updateCommand() *cobra.Command {
	var message, output string
	cmd := &cobra.Command{
		Use:     "update INCIDENT -m MESSAGE",
		GroupID: "incident",
		Short:   "Post a stakeholder update: append it to spec.updates, authored by you",
		Long: `Post a stakeholder update: append one entry to the incident's spec.updates,
with the time and you as its author. Stakeholders of the escalation policy
are told, and the update cadence target restarts from it.

The author is who the API server says you are (a SelfSubjectReview), the
same name it records as the actor of moves. Earlier updates are never
rewritten: the entry is added with a JSON patch (add /spec/updates/-), so
updates posted at the same moment by others are all kept.`,
		Example: `  kubectl klaxon update inc-x7k2p -m "Rolled back release 1234, monitoring."`,
		Args:    oneArg("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.update(cmd, args[0], message, output)
		},
		ValidArgsFunction: c.completeIncidents(func(inc *klaxonv1alpha1.Incident) bool {
			return desiredState(inc) != klaxonv1alpha1.StateClosed
		}),
	}
	cmd.Flags().StringVarP(&message, "message", "m", "", "The update for stakeholders: what is known, what is being done, when the next update comes.")
	_ = cmd.MarkFlagRequired("message")
	_ = cmd.RegisterFlagCompletionFunc("message", cobra.NoFileCompletions)
	addOutputFlag(cmd, &output, outputName, outputJSON, outputYAML)
	return cmd
}

func (c *command) update(cmd *cobra.Command, name, message, output string) error {
	message = strings.TrimSpace(message)
	switch {
	case message == "":
		return fmt.Errorf("the update is empty: say what is known and what is being done, with -m")
	case len([]rune(message)) > maxMessageLen:
		return fmt.Errorf("the update is %d characters long; an update holds at most %d: shorten it, or link a document", len([]rune(message)), maxMessageLen)
	}
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	author, err := whoAmI(ctx, k8s)
	if err != nil {
		return err
	}
	entry := klaxonv1alpha1.StakeholderUpdate{
		Time:    metav1.NewTime(c.Clock.Now().UTC().Truncate(time.Second)),
		Author:  bounded.Runes(author, maxAuthorLength),
		Message: message,
	}
	doing := fmt.Sprintf("post an update to incident %s/%s", ns, name)
	inc := &klaxonv1alpha1.Incident{}
	for attempt := 1; ; attempt++ {
		if err = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
			return explainWriteError(err, doing, ns, name)
		}
		if n := len(inc.Spec.Updates); n >= maxUpdates {
			return fmt.Errorf("cannot %s: it already has %d updates, the most an incident holds: post further news where stakeholders follow it (a status page or a document)", doing, n)
		}
		var patch []byte
		if patch, err = appendPatch(len(inc.Spec.Updates), entry); err != nil {
			return err
		}
		err = k8s.Patch(ctx, inc, client.RawPatch(types.JSONPatchType, patch))
		if err == nil {
			break
		}
		// The test failed: someone added the first update since the read.
		if len(inc.Spec.Updates) == 0 && isPatchTestFailure(err) && attempt < appendAttempts {
			continue
		}
		return explainWriteError(err, doing, ns, name)
	}
	if output != "" {
		return printObjects(c.Streams.Out, output, false, inc)
	}
	_, err = fmt.Fprintf(c.Streams.Out, "incident.klaxon.dev/%s updated: update %d by %s\n", inc.Name, len(inc.Spec.Updates), entry.Author)
	return err
}

// appendPatch appends entry to spec.updates, whose length was n when read.
// Appending with "-" adds after whatever the list holds when the API server
// applies the patch, so concurrent updates are all kept and none is
// rewritten. An empty list is absent from the object and "-" has nothing to
// append to, so the first update creates the list, guarded by a test that
// it is still absent: "add" on an existing list would replace it.
func appendPatch(n int, entry klaxonv1alpha1.StakeholderUpdate) ([]byte, error) {
	ops := []jsonPatchOp{{Op: "add", Path: "/spec/updates/-", Value: entry}}
	if n == 0 {
		ops = []jsonPatchOp{
			{Op: "test", Path: "/spec/updates", Value: nil},
			{Op: "add", Path: "/spec/updates", Value: []klaxonv1alpha1.StakeholderUpdate{entry}},
		}
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encoding the JSON patch: %w", err)
	}
	return data, nil
}

// isPatchTestFailure reports whether the API server refused a JSON patch
// because an operation did not apply, such as a failed test. It says so
// with a bare 422 (it keeps the patch library's message to itself), unlike
// a validation failure, which lists its causes.
func isPatchTestFailure(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	s := status.Status()
	return s.Code == http.StatusUnprocessableEntity && (s.Details == nil || len(s.Details.Causes) == 0)
}
