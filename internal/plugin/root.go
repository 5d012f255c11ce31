package plugin

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// Options configure the command tree.
type Options struct {
	// Streams are where the commands write.
	Streams genericiooptions.IOStreams
	// Clock tells the time: ages, update times and report windows.
	Clock clock.PassiveClock
	// RESTConfig, when set, replaces the connection settings of the
	// kubeconfig flags (-n still applies). Tests and programs that embed the
	// commands set it.
	RESTConfig *rest.Config
	// Version is what `version` prints.
	Version string
	// Getenv reads the environment (import reads its tokens there);
	// defaults to os.Getenv.
	Getenv func(string) string
}

// Execute runs the command line args and returns the process exit code,
// printing an error the way kubectl does.
func Execute(ctx context.Context, o Options, args []string) int {
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		_, _ = fmt.Fprintf(o.Streams.ErrOut, "error: %s\n", err)
		return 1
	}
	return 0
}

// command is what every subcommand shares.
type command struct {
	Options
	clients *clients
}

// NewCommand builds the `kubectl klaxon` command tree.
func NewCommand(o Options) *cobra.Command {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	flags := genericclioptions.NewConfigFlags(true).WithDiscoveryBurst(300).WithDiscoveryQPS(50)
	c := &command{Options: o, clients: &clients{flags: flags, config: o.RESTConfig}}

	root := &cobra.Command{
		Use:   "kubectl-klaxon",
		Short: "Run incident response with Klaxon from kubectl",
		Long: `kubectl klaxon declares incidents, moves them along their lifecycle, posts
stakeholder updates and shows who is on call, what is open and how the
response went.

Every move is one write of spec.state: the API server checks it against the
lifecycle and records who made it (the klaxon.dev/actor annotation), so a
move made here reads the same as one made with kubectl patch.`,
		Example: `  kubectl klaxon declare "Checkout returns 500" --severity SEV2 --service checkout
  kubectl klaxon ack inc-x7k2p
  kubectl klaxon update inc-x7k2p -m "Rolled back release 1234, monitoring."
  kubectl klaxon resolve inc-x7k2p
  kubectl klaxon close inc-x7k2p --postmortem https://wiki.example.com/pm/123
  kubectl klaxon status
  kubectl klaxon cover --schedule payments-primary --from now --to +3h
  kubectl klaxon report --since 30d --by service`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl klaxon"},
	}
	root.SetOut(o.Streams.Out)
	root.SetErr(o.Streams.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage", err, cmd.CommandPath())
	})
	flags.AddFlags(root.PersistentFlags())
	c.registerNamespaceCompletion(root)

	root.AddGroup(
		&cobra.Group{ID: "incident", Title: "Incidents:"},
		&cobra.Group{ID: "read", Title: "Reading:"},
		&cobra.Group{ID: "oncall", Title: "On call:"},
		&cobra.Group{ID: "setup", Title: "Setting up:"},
	)
	root.AddCommand(c.declareCommand(), c.updateCommand())
	for _, m := range moves {
		root.AddCommand(c.moveCommand(m))
	}
	root.AddCommand(c.oncallCommand(), c.timelineCommand(), c.statusCommand(), c.reportCommand())
	root.AddCommand(c.overrideCommand(), c.coverCommand(), c.shiftsCommand(), c.calendarCommand())
	root.AddCommand(c.importCommand())
	root.AddCommand(c.versionCommand())
	return root
}

func (c *command) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(c.Streams.Out, "kubectl-klaxon %s\n", c.Version)
			return err
		},
	}
}
