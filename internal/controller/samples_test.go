package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

const (
	// incidentSamples holds the sample incidents, applied last.
	incidentSamples = "klaxon_v1alpha1_incident.yaml"
	// sampleIncident is the sample incident that pages.
	sampleIncident = "payment-gateway-timeouts"
	// sampleChannel is the channel make dev runs mailpit for.
	sampleChannel = "mail"
)

func samplesDir() string { return filepath.Join(localcluster.RepoRoot(), "config", "samples") }

// sampleFiles lists the YAML files of config/samples, kustomization.yaml
// aside, by name.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(samplesDir(), "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		if name := filepath.Base(p); name != "kustomization.yaml" {
			names = append(names, name)
		}
	}
	return names
}

// applySamples applies the named files of config/samples to ns as
// ApplyFiles does, in name order.
func applySamples(t *testing.T, ns string, names ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		if err := os.Symlink(filepath.Join(samplesDir(), name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := localcluster.ApplyFiles(context.Background(), k8s, dir, ns); err != nil {
		t.Fatal(err)
	}
}

// The samples `make dev` applies are accepted and work together: the mail
// channel and every Responder are Ready, everyone the schedules and the
// policy can page has a Responder, the schedules are Ready, the policy finds
// them, the alert route finds its token, and the new incident pages its
// primary with a mail planned. The mail itself goes where nobody listens,
// fails and is retried; delivery is tested elsewhere.
func TestSamplesApplyAndPage(t *testing.T) {
	ns := newNamespace(t)
	// The incidents go in last, as make dev starts the operator only once
	// every sample is in: a person paged before their Responder exists is
	// told nothing.
	applySamples(t, ns, slices.DeleteFunc(sampleFiles(t), func(name string) bool { return name == incidentSamples })...)

	ch := &klaxonv1alpha1.NotificationChannel{}
	eventually(t, "channel "+sampleChannel+" Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: sampleChannel}, ch)
		return meta.IsStatusConditionTrue(ch.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	responders := &klaxonv1alpha1.ResponderList{}
	eventually(t, "every Responder Ready", func(ctx context.Context) (bool, error) {
		if err := k8s.List(ctx, responders, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, r := range responders.Items {
			if !meta.IsStatusConditionTrue(r.Status.Conditions, klaxonv1alpha1.ConditionReady) {
				return false, nil
			}
		}
		return len(responders.Items) > 0, nil
	})
	for _, r := range responders.Items {
		for _, c := range r.Spec.Contacts {
			// make dev runs mailpit for this channel alone: a contact
			// elsewhere would get nothing there.
			if c.Channel != sampleChannel {
				t.Errorf("Responder %s: contact %s is on channel %s, not %s", r.Name, c.Name, c.Channel, sampleChannel)
			}
		}
	}

	for _, name := range []string{"payments-primary", "payments-secondary"} {
		s := &klaxonv1alpha1.OnCallSchedule{}
		eventually(t, name+" Ready with someone on call", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
			return meta.IsStatusConditionTrue(s.Status.Conditions, klaxonv1alpha1.ConditionReady) && len(s.Status.OnCall) == 1, err
		})
	}
	pol := &klaxonv1alpha1.EscalationPolicy{}
	eventually(t, "policy Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, pol)
		return meta.IsStatusConditionTrue(pol.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	route := &klaxonv1alpha1.AlertRoute{}
	eventually(t, "alert route Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments-critical"}, route)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	assertEveryonePageableHasResponder(t, ns, pol, responders)

	// A make dev running beside the test listens on the sample smarthost:
	// send the test's mail to a port nobody listens on instead.
	patch := client.MergeFrom(ch.DeepCopy())
	ch.Spec.Email.Smarthost = proc.FreeAddr(t)
	if err := k8s.Patch(context.Background(), ch, patch); err != nil {
		t.Fatal(err)
	}

	applySamples(t, ns, incidentSamples)
	inc := &klaxonv1alpha1.Incident{}
	eventually(t, "the sample incident paged the primary", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: sampleIncident}, inc)
		return len(inc.Status.Assignments) == 1 && inc.Status.Assignments[0].Schedule == "payments-primary", err
	})
	primary := inc.Status.Assignments[0].Name
	var planned []string
	for _, n := range inc.Status.Notifications {
		if n.Responder == primary && n.Channel == sampleChannel {
			planned = append(planned, n.Address)
		}
	}
	if !slices.Contains(planned, primary+"@example.com") {
		t.Errorf("paging %s planned mails to %v, want one to %s@example.com; status.notifications: %+v", primary, planned, primary, inc.Status.Notifications)
	}
}

// assertEveryonePageableHasResponder checks that whoever the sample
// schedules and policy can page has a Responder, so make dev mails
// whoever is on call when it starts.
func assertEveryonePageableHasResponder(t *testing.T, ns string, pol *klaxonv1alpha1.EscalationPolicy, responders *klaxonv1alpha1.ResponderList) {
	t.Helper()
	people := map[string]bool{}
	schedules := &klaxonv1alpha1.OnCallScheduleList{}
	if err := k8s.List(context.Background(), schedules, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, s := range schedules.Items {
		for _, l := range s.Spec.Layers {
			for _, p := range l.Participants {
				people[p] = true
			}
		}
		for _, o := range s.Spec.Overrides {
			people[o.User] = true
		}
	}
	for _, l := range pol.Spec.Levels {
		for _, target := range l.Targets {
			if target.User != "" {
				people[target.User] = true
			}
		}
	}
	have := map[string]bool{}
	for _, r := range responders.Items {
		have[r.Name] = true
	}
	for p := range people {
		if !have[p] {
			t.Errorf("%s can be paged but has no Responder in config/samples/klaxon_v1alpha1_responder.yaml", p)
		}
	}
}

// kubectl apply -k config/samples applies what make dev applies.
func TestSamplesKustomizationListsEveryFile(t *testing.T) {
	f, err := os.Open(filepath.Join(samplesDir(), "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := utilyaml.NewYAMLOrJSONDecoder(f, 4096).Decode(&k); err != nil {
		t.Fatal(err)
	}
	listed := slices.Clone(k.Resources)
	sort.Strings(listed)
	if files := sampleFiles(t); !slices.Equal(listed, files) {
		t.Errorf("kustomization.yaml lists\n  %s\nconfig/samples holds\n  %s", strings.Join(listed, "\n  "), strings.Join(files, "\n  "))
	}
}
