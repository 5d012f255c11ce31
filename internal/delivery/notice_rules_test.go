package delivery

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// A rule with on: ShiftStart or ShiftChange tells of shifts and never
// pages: a page uses only the paging rules, and a person with only notice
// rules is unreachable by page.
func TestNoticeRulesNeverPage(t *testing.T) {
	contacts := []klaxonv1alpha1.Contact{
		{Name: "mail", Channel: "mail", Address: "alice@example.com"},
		{Name: "phone", Channel: "sms", Address: "+49151"},
	}
	hour := &metav1.Duration{Duration: time.Hour}
	cases := map[string]struct {
		rules []klaxonv1alpha1.NotificationRule
		want  []string
	}{
		"a notice rule beside a paging rule": {
			[]klaxonv1alpha1.NotificationRule{{Contact: "phone", On: klaxonv1alpha1.RuleOnShiftStart, Before: hour}, {Contact: "mail"}},
			[]string{"alice/mail@mail:alice@example.com Pending +0s"},
		},
		"on: Page pages": {
			[]klaxonv1alpha1.NotificationRule{{Contact: "phone", On: klaxonv1alpha1.RuleOnPage}, {Contact: "mail", On: klaxonv1alpha1.RuleOnShiftChange}},
			[]string{"alice/phone@sms:+49151 Pending +0s"},
		},
		"a notice rule first does not use up its contact": {
			[]klaxonv1alpha1.NotificationRule{{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftChange}, {Contact: "mail"}},
			[]string{"alice/mail@mail:alice@example.com Pending +0s"},
		},
		"a notice rule spelt as YAML 1.1 reads an unquoted on": {
			[]klaxonv1alpha1.NotificationRule{{Contact: "phone", OnUnquoted: klaxonv1alpha1.RuleOnShiftStart}, {Contact: "mail"}},
			[]string{"alice/mail@mail:alice@example.com Pending +0s"},
		},
		"only notice rules": {
			[]klaxonv1alpha1.NotificationRule{{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart}, {Contact: "phone", On: klaxonv1alpha1.RuleOnShiftChange}},
			[]string{"alice/@: Failed +0s paged alice: no contact for SEV1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := &klaxonv1alpha1.ResponderSpec{Contacts: contacts, Rules: tc.rules}
			got := Plan(Page{At: t0, Severity: "SEV1", People: []string{"alice"},
				Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": spec}})
			var rows []string
			for _, n := range got {
				rows = append(rows, row(n))
			}
			if strings.Join(rows, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
