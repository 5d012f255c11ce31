package statuspage

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Selector parses the page's spec.selector; a page without one selects
// every label set (labels.Everything). The error says what is wrong, for
// the page's Ready condition.
func Selector(p *klaxonv1alpha1.StatusPage) (labels.Selector, error) {
	if p.Spec.Selector == nil {
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("spec.selector is not a valid label selector: %w", err)
	}
	return sel, nil
}

// Select returns the incidents the page shows: those whose spec.service is
// one of spec.services (when set) and whose labels match spec.selector
// (when set). A page that sets neither, or only an empty selector, selects
// nothing rather than publishing every incident of the namespace; the API
// server refuses such a page anyway.
func Select(p *klaxonv1alpha1.StatusPage, incidents []klaxonv1alpha1.Incident) ([]klaxonv1alpha1.Incident, error) {
	sel := p.Spec.Selector
	if len(p.Spec.Services) == 0 && (sel == nil || len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return nil, nil
	}
	matcher, err := Selector(p)
	if err != nil {
		return nil, err
	}
	var out []klaxonv1alpha1.Incident
	for _, inc := range incidents {
		if len(p.Spec.Services) > 0 && !slices.Contains(p.Spec.Services, klaxonv1alpha1.ServiceName(inc.Spec.Service)) {
			continue
		}
		if !matcher.Matches(labels.Set(inc.Labels)) {
			continue
		}
		out = append(out, inc)
	}
	return out, nil
}
