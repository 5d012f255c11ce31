package operator

import (
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Kinds are Klaxon's kinds, the objects of its API group that have a list
// kind: what the operator watches.
func Kinds() []string {
	known := Scheme().KnownTypes(klaxonv1alpha1.GroupVersion)
	var kinds []string
	for kind := range known {
		if _, listed := known[kind+"List"]; listed && !strings.HasSuffix(kind, "List") {
			kinds = append(kinds, kind)
		}
	}
	sort.Strings(kinds)
	return kinds
}

// MissingKinds returns the kinds of want that served, the API server's
// discovery of Klaxon's group version, does not list. Setting up the
// manager maps Klaxon's kinds to resources, and fails on a kind not
// served yet: right after kube-apiserver starts, it answers discovery
// before it has loaded every CRD.
func MissingKinds(served *metav1.APIResourceList, want []string) []string {
	have := map[string]bool{}
	if served != nil {
		for _, r := range served.APIResources {
			if !strings.Contains(r.Name, "/") { // subresources name their parent's kind
				have[r.Kind] = true
			}
		}
	}
	var missing []string
	for _, kind := range want {
		if !have[kind] {
			missing = append(missing, kind)
		}
	}
	return missing
}
