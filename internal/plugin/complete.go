package plugin

import (
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// completeIncidents completes the first argument with the names of the
// namespace's incidents that keep returns true for, each described by its
// severity, state and title.
func (c *command) completeIncidents(keep func(*klaxonv1alpha1.Incident) bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		k8s, err := c.clients.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		ns, err := c.clients.namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var list klaxonv1alpha1.IncidentList
		if err := k8s.List(cmd.Context(), &list, client.InNamespace(ns)); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for i := range list.Items {
			inc := &list.Items[i]
			if strings.HasPrefix(inc.Name, toComplete) && keep(inc) {
				out = append(out, cobra.CompletionWithDesc(inc.Name,
					string(inc.Spec.Severity)+" "+string(desiredState(inc))+": "+oneLine(inc.Spec.Title)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNames completes with the names of the objects of a list kind in
// the namespace.
func (c *command) completeNames(list client.ObjectList) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		k8s, err := c.clients.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		ns, err := c.clients.namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		l := list.DeepCopyObject().(client.ObjectList)
		if err := k8s.List(cmd.Context(), l, client.InNamespace(ns)); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return namesWithPrefix(l, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func namesWithPrefix(list client.ObjectList, prefix string) []cobra.Completion {
	var out []cobra.Completion
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		if obj, ok := o.(client.Object); ok && strings.HasPrefix(obj.GetName(), prefix) {
			out = append(out, obj.GetName())
		}
		return nil
	})
	return out
}

// registerNamespaceCompletion completes -n with the cluster's namespaces.
func (c *command) registerNamespaceCompletion(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		k8s, err := c.clients.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var list corev1.NamespaceList
		if err := k8s.List(cmd.Context(), &list); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return namesWithPrefix(&list, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
}
