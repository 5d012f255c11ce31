package controller_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// wantLabels checks an incident's reporting labels as the API server
// returned them; service "" means the label must be absent.
func wantLabels(t *testing.T, what string, inc *klaxonv1alpha1.Incident, severity, service string) {
	t.Helper()
	if got := inc.Labels[klaxonv1alpha1.LabelSeverity]; got != severity {
		t.Errorf("%s: label %s = %q, want %q", what, klaxonv1alpha1.LabelSeverity, got, severity)
	}
	got, ok := inc.Labels[klaxonv1alpha1.LabelService]
	switch {
	case service == "" && ok:
		t.Errorf("%s: label %s = %q, want none", what, klaxonv1alpha1.LabelService, got)
	case service != "" && got != service:
		t.Errorf("%s: label %s = %q, want %q", what, klaxonv1alpha1.LabelService, got, service)
	}
}

// patchIncident merge-patches inc as the user behind c and returns the
// stored object, as admission left it.
func patchIncident(t *testing.T, c client.Client, inc *klaxonv1alpha1.Incident, patch string) {
	t.Helper()
	if err := c.Patch(context.Background(), inc, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		t.Fatalf("patching incident %s with %s: %v", inc.Name, patch, err)
	}
}

// The API server keeps the reporting labels equal to the spec on every
// write, whoever writes, and overwrites labels set by hand.
func TestReportingLabelsFollowTheSpec(t *testing.T) {
	ns := newNamespace(t)
	alice, err := cluster.Impersonate("alice")
	if err != nil {
		t.Fatal(err)
	}

	inc := createIncident(t, alice, ns, "labelled", func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
		i.Spec.Service = "checkout"
	})
	wantLabels(t, "created with SEV1 and a service", inc, "SEV1", "checkout")

	defaulted := createIncident(t, alice, ns, "defaulted")
	wantLabels(t, "created without severity or service", defaulted, "SEV3", "")

	patchIncident(t, alice, inc, `{"spec":{"severity":"SEV2"}}`)
	wantLabels(t, "after a severity change", inc, "SEV2", "checkout")

	// A write that changes only the labels is corrected too, and other
	// labels are left alone.
	patchIncident(t, alice, inc, `{"metadata":{"labels":{"klaxon.dev/severity":"SEV4","klaxon.dev/service":"billing","team":"payments"}}}`)
	wantLabels(t, "after wrong labels were set by hand", inc, "SEV2", "checkout")
	if inc.Labels["team"] != "payments" {
		t.Errorf("label team = %q, want the one set by hand kept", inc.Labels["team"])
	}
	patchIncident(t, alice, inc, `{"metadata":{"labels":{"klaxon.dev/severity":null,"klaxon.dev/service":null}}}`)
	wantLabels(t, "after the labels were removed by hand", inc, "SEV2", "checkout")

	patchIncident(t, alice, inc, `{"spec":{"service":null}}`)
	wantLabels(t, "after service was unset", inc, "SEV2", "")

	patchIncident(t, alice, inc, `{"spec":{"service":"search"}}`)
	wantLabels(t, "after service was set again", inc, "SEV2", "search")

	// Unsetting severity defaults it, and the label follows the default.
	patchIncident(t, alice, defaulted, `{"spec":{"severity":null}}`)
	wantLabels(t, "after severity was unset", defaulted, "SEV3", "")

	// Only incidents of the asked severity are selected.
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{klaxonv1alpha1.LabelSeverity: "SEV2"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != inc.Name {
		t.Errorf("-l %s=SEV2 selected %d incidents, want only %s", klaxonv1alpha1.LabelSeverity, len(list.Items), inc.Name)
	}
}

// A service that is not a valid label value gets no service label, and
// loses the one it had; it is never cut or rewritten into another service's
// value.
func TestReportingLabelsSkipInvalidServices(t *testing.T) {
	ns := newNamespace(t)
	invalid := map[string]string{
		"too long":            strings.Repeat("s", 64),
		"space":               "checkout service",
		"slash":               "payments/checkout",
		"ends in a separator": "checkout-",
		"starts with a dot":   ".checkout",
	}
	for name, service := range invalid {
		t.Run(name, func(t *testing.T) {
			inc := createIncident(t, k8s, ns, "", func(i *klaxonv1alpha1.Incident) {
				i.GenerateName = "invalid-"
				i.Spec.Severity = klaxonv1alpha1.SeverityHigh
				i.Spec.Service = service
			})
			wantLabels(t, "created with service "+service, inc, "SEV2", "")
			if inc.Spec.Service != service {
				t.Errorf("spec.service = %q, want %q kept as written", inc.Spec.Service, service)
			}

			patchIncident(t, k8s, inc, `{"spec":{"service":"checkout"}}`)
			wantLabels(t, "after a valid service", inc, "SEV2", "checkout")
			patchIncident(t, k8s, inc, `{"spec":{"service":"`+service+`"}}`)
			wantLabels(t, "after an invalid service again", inc, "SEV2", "")
		})
	}

	// The longest valid label value is used as it is.
	longest := strings.Repeat("a", 31) + "-_." + strings.Repeat("z", 29)
	inc := createIncident(t, k8s, ns, "longest", func(i *klaxonv1alpha1.Incident) { i.Spec.Service = longest })
	wantLabels(t, "created with a 63-character service", inc, "SEV3", longest)
}

// The operator's own identity is not exempt: the incidents the receiver
// opens, built as it builds them, are labelled on create, and the operator
// cannot set other values either.
func TestReportingLabelsOnReceiverIncidents(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	operatorClient, err := client.New(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	route, err := alertmapping.CompileRoute(klaxonv1alpha1.AlertRouteSpec{
		Severity: klaxonv1alpha1.AlertSeverityMapping{
			Label: "severity", Map: map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical}, Default: klaxonv1alpha1.SeverityModerate,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := alertmapping.ParseMessage([]byte(`{"version":"4","groupKey":"{}:{alertname=\"CheckoutErrors\"}","status":"firing",
		"commonLabels":{"alertname":"CheckoutErrors","severity":"critical"},
		"alerts":[{"status":"firing","labels":{"alertname":"CheckoutErrors"},"startsAt":"2026-11-23T09:00:00Z","fingerprint":"abc123"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	inc, err := alertmapping.NewIncident(route, "payments-critical", ns, 1, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := operatorClient.Create(ctx, inc); err != nil {
		t.Fatal(err)
	}
	wantLabels(t, "opened by the receiver", inc, "SEV1", "")
	if inc.Labels[klaxonv1alpha1.LabelAlertRoute] != "payments-critical" || inc.Labels[klaxonv1alpha1.LabelAlertSeverity] != "critical" {
		t.Errorf("labels %v: want the receiver's own labels kept", inc.Labels)
	}

	patchIncident(t, operatorClient, inc, `{"metadata":{"labels":{"klaxon.dev/severity":"SEV4"}}}`)
	wantLabels(t, "after the operator set a wrong label", inc, "SEV1", "")
}
