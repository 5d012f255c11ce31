package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// declaredPrefix starts the generated name of a declared incident.
const declaredPrefix = "inc-"

// severities are the severities, from the worst.
var severities = []string{
	string(klaxonv1alpha1.SeverityCritical),
	string(klaxonv1alpha1.SeverityHigh),
	string(klaxonv1alpha1.SeverityModerate),
	string(klaxonv1alpha1.SeverityLow),
}

type declareOptions struct {
	severity    string
	service     string
	impact      string
	description string
	policy      string
	commander   string
	output      string
}

func (c *command) declareCommand() *cobra.Command {
	var o declareOptions
	cmd := &cobra.Command{
		Use:     "declare TITLE [--severity SEV2] [--service NAME] [--impact TEXT] [--policy NAME]",
		GroupID: "incident",
		Short:   "Declare an incident: create it, Triggered, and print its generated name",
		Long: `Declare an incident: create an Incident in the namespace, Triggered, with a
generated name (inc-xxxxx), and print that name.

With --policy the operator pages whoever the escalation policy names, and
tracks the policy's response targets for the severity. The API server records
you as the actor of the trigger.`,
		Example: `  kubectl klaxon declare "Checkout returns 500 for 5% of requests" --severity SEV2 \
    --service checkout --impact "5% of EU checkouts fail" --policy payments`,
		Args: oneArg("TITLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.declare(cmd, args[0], &o)
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	f := cmd.Flags()
	f.StringVar(&o.severity, "severity", string(klaxonv1alpha1.SeverityModerate), "Severity: "+strings.Join(severities, ", ")+" (SEV1 is the worst).")
	f.StringVar(&o.service, "service", "", "The affected service.")
	f.StringVar(&o.impact, "impact", "", "Who is affected, and how.")
	f.StringVar(&o.description, "description", "", "What is known so far.")
	f.StringVar(&o.policy, "policy", "", "The EscalationPolicy (same namespace) that decides whom to page.")
	f.StringVar(&o.commander, "commander", "", "The incident commander.")
	_ = cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(severities, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("policy", c.completeNames(&klaxonv1alpha1.EscalationPolicyList{}))
	addOutputFlag(cmd, &o.output, outputName, outputJSON, outputYAML)
	return cmd
}

func (c *command) declare(cmd *cobra.Command, title string, o *declareOptions) error {
	if !slices.Contains(severities, o.severity) {
		return fmt.Errorf("unknown severity %q: use one of %s", o.severity, strings.Join(severities, ", "))
	}
	if strings.TrimSpace(title) == "" {
		return fmt.Errorf("the title is empty: say in a line what is wrong, such as %q", "Checkout returns 500 for 5% of requests")
	}
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{GenerateName: declaredPrefix, Namespace: ns},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:       title,
			Description: o.description,
			Severity:    klaxonv1alpha1.Severity(o.severity),
			Service:     o.service,
			Impact:      o.impact,
			State:       klaxonv1alpha1.StateTriggered,
			Commander:   o.commander,
		},
	}
	if o.policy != "" {
		inc.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: o.policy}
	}
	if err = k8s.Create(cmd.Context(), inc); err != nil {
		return explainWriteError(err, "declare the incident", ns, "")
	}
	if o.output != "" {
		return printObjects(c.Streams.Out, o.output, false, inc)
	}
	_, err = fmt.Fprintf(c.Streams.Out, "incident.klaxon.dev/%s created\n", inc.Name)
	return err
}

// oneArg is cobra.ExactArgs(1) with a message that names the argument.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s takes one argument, %s; got %d\nSee '%s --help' for usage", cmd.Name(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}
