package alertmapping

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestNewIncident(t *testing.T) {
	payments := mustCompile(t, paymentsSpec())
	tests := map[string]struct {
		spec    *klaxonv1alpha1.AlertRouteSpec
		serial  int32
		edit    func(msg *Message)
		want    func() *klaxonv1alpha1.Incident
		wantErr string
	}{
		"the design's example": {
			serial: 1,
			edit:   func(msg *Message) { msg.CommonAnnotations["description"] = "5% of EU checkouts fail" },
			want: func() *klaxonv1alpha1.Incident {
				return &klaxonv1alpha1.Incident{
					ObjectMeta: metav1.ObjectMeta{
						Name:      "payments-critical-" + GroupHash(testGroupKey),
						Namespace: "payments",
						Labels: map[string]string{
							klaxonv1alpha1.LabelAlertRoute:    "payments-critical",
							klaxonv1alpha1.LabelGroup:         GroupHash(testGroupKey),
							klaxonv1alpha1.LabelAlertname:     "CheckoutLatency",
							klaxonv1alpha1.LabelAlertSeverity: "critical",
						},
						Annotations: map[string]string{
							klaxonv1alpha1.ActorAnnotation:       klaxonv1alpha1.ActorAlertmanager,
							klaxonv1alpha1.AnnotationGroupSerial: "1",
						},
					},
					Spec: klaxonv1alpha1.IncidentSpec{
						Title:               "CheckoutLatency: p99 above 2s",
						Description:         "5% of EU checkouts fail",
						Severity:            klaxonv1alpha1.SeverityCritical,
						State:               klaxonv1alpha1.StateTriggered,
						EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"},
						Source: &klaxonv1alpha1.IncidentSource{
							AlertRoute:  "payments-critical",
							GroupKey:    testGroupKey,
							ExternalURL: "http://alertmanager:9093",
						},
					},
				}
			},
		},
		"a later incident of the group": {
			serial: 3,
			want: func() *klaxonv1alpha1.Incident {
				inc := &klaxonv1alpha1.Incident{}
				inc.Name = "payments-critical-" + GroupHash(testGroupKey) + "-3"
				inc.Annotations = map[string]string{
					klaxonv1alpha1.ActorAnnotation:       klaxonv1alpha1.ActorAlertmanager,
					klaxonv1alpha1.AnnotationGroupSerial: "3",
				}
				return inc
			},
		},
		"broken title template still opens the incident": {
			spec: &klaxonv1alpha1.AlertRouteSpec{TitleTemplate: `{{ index .Alerts 3 }}`},
			edit: func(msg *Message) { msg.CommonAnnotations["description"] = "details" },
			want: func() *klaxonv1alpha1.Incident {
				inc := &klaxonv1alpha1.Incident{}
				inc.Spec.Title = "CheckoutLatency"
				inc.Spec.Description = "details\n\nThe title template of AlertRoute payments-critical failed"
				inc.Spec.Severity = klaxonv1alpha1.SeverityModerate
				return inc
			},
		},
		"overlong external URL is left out": {
			edit: func(msg *Message) { msg.ExternalURL = "http://" + strings.Repeat("a", 2100) },
			want: func() *klaxonv1alpha1.Incident {
				inc := &klaxonv1alpha1.Incident{}
				inc.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "payments-critical", GroupKey: testGroupKey}
				return inc
			},
		},
		"no group key": {
			edit:    func(msg *Message) { msg.GroupKey = "" },
			wantErr: "needs the notification's groupKey",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			route := payments
			if tc.spec != nil {
				route = mustCompile(t, *tc.spec)
			}
			msg := message(firingAlert("a", t0))
			if tc.edit != nil {
				tc.edit(msg)
			}
			got, err := NewIncident(route, "payments-critical", "payments", tc.serial, msg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewIncident: %v", err)
			}
			want := tc.want()
			// Compare only what the case sets, so each case states its point.
			if want.Name != "" && got.Name != want.Name {
				t.Errorf("name = %q, want %q", got.Name, want.Name)
			}
			if want.Namespace != "" && got.Namespace != want.Namespace {
				t.Errorf("namespace = %q, want %q", got.Namespace, want.Namespace)
			}
			if want.Labels != nil && !equality.Semantic.DeepEqual(got.Labels, want.Labels) {
				t.Errorf("labels = %v, want %v", got.Labels, want.Labels)
			}
			if want.Annotations != nil && !equality.Semantic.DeepEqual(got.Annotations, want.Annotations) {
				t.Errorf("annotations = %v, want %v", got.Annotations, want.Annotations)
			}
			if want.Spec.Title != "" && got.Spec.Title != want.Spec.Title {
				t.Errorf("title = %q, want %q", got.Spec.Title, want.Spec.Title)
			}
			if want.Spec.Description != "" && !strings.HasPrefix(got.Spec.Description, want.Spec.Description) {
				t.Errorf("description = %q, want it to start with %q", got.Spec.Description, want.Spec.Description)
			}
			if want.Spec.Severity != "" && got.Spec.Severity != want.Spec.Severity {
				t.Errorf("severity = %s, want %s", got.Spec.Severity, want.Spec.Severity)
			}
			if want.Spec.Source != nil && !equality.Semantic.DeepEqual(got.Spec.Source, want.Spec.Source) {
				t.Errorf("source = %+v, want %+v", got.Spec.Source, want.Spec.Source)
			}
			if want.Spec.EscalationPolicyRef != nil && !equality.Semantic.DeepEqual(got.Spec.EscalationPolicyRef, want.Spec.EscalationPolicyRef) {
				t.Errorf("escalationPolicyRef = %v, want %v", got.Spec.EscalationPolicyRef, want.Spec.EscalationPolicyRef)
			}
			if got.Spec.State != klaxonv1alpha1.StateTriggered {
				t.Errorf("state = %s, want Triggered", got.Spec.State)
			}
			if !equality.Semantic.DeepEqual(got.Status, klaxonv1alpha1.IncidentStatus{}) {
				t.Errorf("status = %+v, want empty: create ignores it", got.Status)
			}
		})
	}

	t.Run("the route's policy reference is copied, not shared", func(t *testing.T) {
		inc, err := NewIncident(payments, "payments-critical", "payments", 1, message(firingAlert("a", t0)))
		if err != nil {
			t.Fatal(err)
		}
		inc.Spec.EscalationPolicyRef.Name = "changed"
		if payments.escalation.Name != "payments" {
			t.Error("editing the incident changed the compiled route")
		}
	})
}
