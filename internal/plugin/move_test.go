package plugin_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestDeclareCreatesATriggeredIncidentAttributedToTheUser(t *testing.T) {
	ns := newNamespace(t)
	alice := userConfig(t, "alice")

	out := mustRun(t, alice, "declare", "Checkout returns 500 for 5% of requests", "-n", ns,
		"--severity", "SEV2", "--service", "checkout", "--impact", "5% of EU checkouts fail", "--policy", "payments")

	match := regexp.MustCompile(`^incident\.klaxon\.dev/(inc-[a-z0-9]{5}) created\n$`).FindStringSubmatch(out)
	if match == nil {
		t.Fatalf("declare printed %q, want incident.klaxon.dev/inc-xxxxx created", out)
	}
	inc := getIncident(t, ns, match[1])
	want := klaxonv1alpha1.IncidentSpec{
		Title:               "Checkout returns 500 for 5% of requests",
		Severity:            klaxonv1alpha1.SeverityHigh,
		Service:             "checkout",
		Impact:              "5% of EU checkouts fail",
		State:               klaxonv1alpha1.StateTriggered,
		EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"},
	}
	if diff := cmp.Diff(want, inc.Spec); diff != "" {
		t.Errorf("declared spec (-want +got):\n%s", diff)
	}
	if got := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; got != "alice" {
		t.Errorf("actor = %q, want alice (stamped by the admission policy)", got)
	}
}

func TestDeclareRefusesAnUnknownSeverityBeforeAnyRequest(t *testing.T) {
	var counter requestCounter
	r := kubectlKlaxon(counter.counted(cluster.AdminConfig), "declare", "Disk full", "--severity", "P1")
	if r.err == nil || !strings.Contains(r.err.Error(), "use one of SEV1, SEV2, SEV3, SEV4") {
		t.Fatalf("err = %v, want the severities listed", r.err)
	}
	if len(counter.counts) != 0 {
		t.Errorf("requests made: %v, want none", counter.counts)
	}
}

func TestEachMoveIsOneWriteAttributedByTheAPIServer(t *testing.T) {
	ns := newNamespace(t)
	createIncident(t, ns, "checkout", func(inc *klaxonv1alpha1.Incident) { inc.Spec.Severity = klaxonv1alpha1.SeverityHigh })
	users := map[string]string{"ack": "alice", "mitigate": "bob", "reopen": "carol", "resolve": "dave", "close": "erin"}
	configs := map[string]*counterConfig{}
	for verb, user := range users {
		configs[verb] = &counterConfig{user: user}
		configs[verb].cfg = configs[verb].counter.counted(userConfig(t, user))
	}

	steps := []struct {
		args      []string
		verb      string
		wantState klaxonv1alpha1.IncidentState
		wantOut   string
	}{
		{[]string{"ack", "checkout"}, "ack", klaxonv1alpha1.StateAcknowledged, "incident.klaxon.dev/checkout acknowledged by alice\n"},
		{[]string{"mitigate", "checkout"}, "mitigate", klaxonv1alpha1.StateMitigated, "incident.klaxon.dev/checkout mitigated by bob\n"},
		{[]string{"reopen", "checkout"}, "reopen", klaxonv1alpha1.StateTriggered, "incident.klaxon.dev/checkout reopened by carol\n"},
		{[]string{"resolve", "checkout"}, "resolve", klaxonv1alpha1.StateResolved, "incident.klaxon.dev/checkout resolved by dave\n"},
		{[]string{"close", "checkout", "--postmortem", "https://wiki.example.com/pm/123"}, "close", klaxonv1alpha1.StateClosed, "incident.klaxon.dev/checkout closed by erin\n"},
	}
	for _, s := range steps {
		before := getIncident(t, ns, "checkout")
		c := configs[s.verb]
		out := mustRun(t, c.cfg, append(s.args, "-n", ns)...)
		if out != s.wantOut {
			t.Errorf("%s printed %q, want %q", s.verb, out, s.wantOut)
		}
		after := getIncident(t, ns, "checkout")
		if after.Spec.State != s.wantState {
			t.Errorf("after %s: spec.state = %s, want %s", s.verb, after.Spec.State, s.wantState)
		}
		if got := after.Annotations[klaxonv1alpha1.ActorAnnotation]; got != c.user {
			t.Errorf("after %s: actor = %q, want %q", s.verb, got, c.user)
		}
		// One request that writes, and one change of the spec: the close
		// sets the postmortem in the same write as the state.
		if diff := cmp.Diff(map[string]int{"PATCH": 1}, c.counter.writes()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", s.verb, diff)
		}
		if after.Generation != before.Generation+1 {
			t.Errorf("%s: generation %d -> %d, want one spec change", s.verb, before.Generation, after.Generation)
		}
	}
	if pm := getIncident(t, ns, "checkout").Spec.Postmortem; pm == nil || pm.URL != "https://wiki.example.com/pm/123" {
		t.Errorf("postmortem = %+v, want the URL given to close", pm)
	}
}

type counterConfig struct {
	user    string
	counter requestCounter
	cfg     *rest.Config
}

func TestRefusedMoveListsTheMovesAllowedFromTheCurrentState(t *testing.T) {
	ns := newNamespace(t)
	alice := userConfig(t, "alice")
	createIncident(t, ns, "resolved")
	mustRun(t, alice, "resolve", "resolved", "-n", ns)
	createIncident(t, ns, "closed")
	mustRun(t, alice, "close", "closed", "-n", ns)
	createIncident(t, ns, "acked")
	mustRun(t, alice, "ack", "acked", "-n", ns)

	cases := map[string]struct {
		args []string
		want []string
	}{
		"acknowledge a resolved incident": {
			args: []string{"ack", "resolved"},
			want: []string{
				"cannot ack incident " + ns + "/resolved: the API server refused the move: cannot move incident from Resolved to Acknowledged: states move forward, or reopen to Triggered from Mitigated or Resolved",
				"The incident is Resolved; the moves allowed from Resolved are: reopen, close. For example: kubectl klaxon reopen resolved -n " + ns,
			},
		},
		"reopen an acknowledged incident": {
			args: []string{"reopen", "acked"},
			want: []string{
				"cannot move incident from Acknowledged to Triggered",
				"the moves allowed from Acknowledged are: mitigate, resolve, close.",
			},
		},
		"reopen a closed incident": {
			args: []string{"reopen", "closed"},
			want: []string{
				"cannot move incident from Closed to Triggered: Closed is final",
				"The incident is Closed, and Closed is final: nothing moves it. If the problem is back, declare a new incident: kubectl klaxon declare TITLE -n " + ns,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := kubectlKlaxon(alice, append(tc.args, "-n", ns)...)
			if r.err == nil {
				t.Fatalf("the move succeeded, want it refused")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error does not say %q:\n%s", w, r.err)
				}
			}
		})
	}
}

func TestClosingASEV2WithoutAPostmortemSaysHowToLinkIt(t *testing.T) {
	ns := newNamespace(t)
	createIncident(t, ns, "checkout", func(inc *klaxonv1alpha1.Incident) { inc.Spec.Severity = klaxonv1alpha1.SeverityHigh })
	r := kubectlKlaxon(cluster.AdminConfig, "close", "checkout", "-n", ns)
	want := "cannot close incident " + ns + "/checkout: the API server refused it: closing a SEV2 incident needs spec.postmortem.url: link the post-incident review first\n" +
		"Link the review in the same write: kubectl klaxon close checkout -n " + ns + " --postmortem URL"
	if r.err == nil || r.err.Error() != want {
		t.Fatalf("err = %v\nwant %s", r.err, want)
	}
	if got := getIncident(t, ns, "checkout").Spec.State; got != klaxonv1alpha1.StateTriggered {
		t.Errorf("spec.state = %s, want it unchanged", got)
	}
}

func TestMoveOfAMissingIncidentSaysWhereToLook(t *testing.T) {
	ns := newNamespace(t)
	r := kubectlKlaxon(cluster.AdminConfig, "ack", "nope", "-n", ns)
	want := `cannot ack incident ` + ns + `/nope: incident "nope" not found in namespace "` + ns + `": list open incidents with 'kubectl klaxon status', or name the namespace with -n`
	if r.err == nil || r.err.Error() != want {
		t.Fatalf("err = %v\nwant %s", r.err, want)
	}
}

func TestKubeconfigFlagsChooseTheUserAndNamespace(t *testing.T) {
	ns := newNamespace(t)
	raw, err := cluster.AddUser("frank")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kubeconfig.Contexts {
		c.Namespace = ns
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, nil, "--kubeconfig", path, "declare", "Disk full on db-0", "-o", "name")
	name := strings.TrimPrefix(strings.TrimSpace(out), "incident.klaxon.dev/")
	if got := getIncident(t, ns, name).Annotations[klaxonv1alpha1.ActorAnnotation]; got != "frank" {
		t.Errorf("actor = %q, want frank, the kubeconfig's user", got)
	}
	if out := mustRun(t, nil, "--kubeconfig", path, "ack", name); out != "incident.klaxon.dev/"+name+" acknowledged by frank\n" {
		t.Errorf("ack printed %q", out)
	}
}
