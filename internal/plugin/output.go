package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

// Output formats, as kubectl names them. The empty format is the command's
// own human-readable one.
const (
	outputJSON = "json"
	outputYAML = "yaml"
	outputName = "name"
)

// none stands for an empty cell, as in kubectl's tables.
const none = "<none>"

// addOutputFlag adds -o/--output with the formats the command supports.
func addOutputFlag(cmd *cobra.Command, format *string, formats ...string) {
	cmd.Flags().StringVarP(format, "output", "o", "",
		fmt.Sprintf("Output format: one of %s; the default is a readable table or sentence.", strings.Join(formats, "|")))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(*cobra.Command, []string) error {
		if *format != "" && !slices.Contains(formats, *format) {
			return fmt.Errorf("unknown output format %q: use one of %s", *format, strings.Join(formats, "|"))
		}
		return nil
	})
}

func chainPreRun(first, then func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if first == nil {
		return then
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := first(cmd, args); err != nil {
			return err
		}
		return then(cmd, args)
	}
}

// printObjects prints Kubernetes objects as kubectl get does: one object as
// itself, several as a List; -o name as kind.group/name.
func printObjects[T client.Object](w io.Writer, format string, list bool, objs ...T) error {
	if format == outputName {
		for _, o := range objs {
			gvk, err := apiutil.GVKForObject(o, scheme)
			if err != nil {
				return fmt.Errorf("naming %s: %w", o.GetName(), err)
			}
			if _, err := fmt.Fprintf(w, "%s.%s/%s\n", strings.ToLower(gvk.Kind), gvk.Group, o.GetName()); err != nil {
				return err
			}
		}
		return nil
	}
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, scheme)
		if err != nil {
			return fmt.Errorf("naming %s: %w", o.GetName(), err)
		}
		// The typed client drops apiVersion and kind; managed fields are
		// noise unless asked for, as kubectl hides them.
		o.GetObjectKind().SetGroupVersionKind(gvk)
		o.SetManagedFields(nil)
		items = append(items, o)
	}
	if !list && len(items) == 1 {
		return printData(w, format, items[0])
	}
	return printData(w, format, map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{"resourceVersion": ""}})
}

// printData prints v as indented JSON or as YAML.
func printData(w io.Writer, format string, v any) error {
	var data []byte
	var err error
	switch format {
	case outputJSON:
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	case outputYAML:
		data, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("output format %q cannot print this", format)
	}
	if err != nil {
		return fmt.Errorf("encoding the output as %s: %w", format, err)
	}
	_, err = w.Write(data)
	return err
}

// newTable writes aligned columns the way kubectl's tables are.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// row writes one tab-separated row.
func row(w io.Writer, cells ...string) {
	_, _ = fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// age says how long ago t was, as kubectl's AGE column does.
func age(now, t time.Time) string {
	if t.IsZero() {
		return none
	}
	return duration.HumanDuration(now.Sub(t))
}

// humanDuration prints a duration as kubectl's AGE column does.
func humanDuration(d time.Duration) string {
	return duration.HumanDuration(d)
}

// stamp prints an instant in UTC, as the API stores it.
func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// orNone returns s, or none when it is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
