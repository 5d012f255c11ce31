package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// amSilence is a silence as Alertmanager's API v2 lists it.
type amSilence struct {
	ID       string                 `json:"id"`
	Status   struct{ State string } `json:"status"`
	Comment  string                 `json:"comment"`
	Creator  string                 `json:"createdBy"`
	Matchers []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual *bool  `json:"isEqual"`
	} `json:"matchers"`
}

// silence reads one silence from Alertmanager's API.
func (am *alertmanager) silence(ctx context.Context, id string) (*amSilence, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.url+"/api/v2/silence/"+id, http.NoBody)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET silence %s: %s", id, resp.Status)
	}
	s := &amSilence{}
	return s, json.NewDecoder(resp.Body).Decode(s)
}

// amtool runs amtool against am.
func (am *alertmanager) amtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(os.Getenv("KLAXON_ALERTMANAGER_DIR"), "amtool"), append(args, "--alertmanager.url="+am.url)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestSilenceOnAcknowledgeRoundTrip(t *testing.T) {
	ctx := context.Background()
	ns := routeNamespace(t, token)
	// The route's URL is only known once Alertmanager runs, and
	// Alertmanager needs the route's name: name it first.
	const routeName = "payments-silenced"
	am := startAlertmanager(t, ns, routeName)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: routeName, Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Matchers:       []string{`severity="critical"`},
			ReopenWindow:   &metav1.Duration{Duration: 30 * time.Minute},
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
			Alertmanager: &klaxonv1alpha1.AlertRouteAlertmanager{
				URL: am.url, SilenceOnAcknowledge: ptr.To(true), SilenceFor: &metav1.Duration{Duration: 10 * time.Minute},
			},
		},
	}
	createReadyRoute(t, route)
	incident := func(ctx context.Context) (*klaxonv1alpha1.Incident, error) {
		list := &klaxonv1alpha1.IncidentList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
			return nil, err
		}
		return &list.Items[0], nil
	}
	waitForIncident := func(what string, timeout time.Duration, cond func(*klaxonv1alpha1.Incident) bool) *klaxonv1alpha1.Incident {
		t.Helper()
		var got *klaxonv1alpha1.Incident
		eventually(t, what, timeout, func(ctx context.Context) (bool, error) {
			inc, err := incident(ctx)
			got = inc
			return inc != nil && cond(inc), err
		})
		return got
	}
	acknowledge := func(inc *klaxonv1alpha1.Incident) {
		t.Helper()
		base := inc.DeepCopy()
		inc.Spec.State = klaxonv1alpha1.StateAcknowledged
		if err := k8s.Patch(ctx, inc, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	silenced := func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Silence != nil && inc.Status.Silence.ID != ""
	}
	waitForState := func(id, state string) *amSilence {
		t.Helper()
		var s *amSilence
		eventually(t, "silence "+id+" to be "+state, 30*time.Second, func(ctx context.Context) (bool, error) {
			var err error
			s, err = am.silence(ctx, id)
			return err == nil && s.Status.State == state, nil
		})
		return s
	}

	start := time.Now().Add(-time.Minute)
	am.send(t, checkoutAlert("checkout-1", start, time.Time{}), checkoutAlert("checkout-2", start, time.Time{}))
	inc := waitForIncident("the incident to open", 30*time.Second, func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Phase == klaxonv1alpha1.StateTriggered && i.Status.Alerts != nil && i.Status.Alerts.Firing == 2
	})

	// Acknowledged: a silence of the group's labels, made by Klaxon.
	acknowledge(inc)
	inc = waitForIncident("the silence to be created", 30*time.Second, silenced)
	first := inc.Status.Silence.ID
	s := waitForState(first, "active")
	var matchers []string
	for _, m := range s.Matchers {
		matchers = append(matchers, fmt.Sprintf("%s=%s regex=%v", m.Name, m.Value, m.IsRegex))
	}
	sort.Strings(matchers)
	if got, want := strings.Join(matchers, ","), "alertname=CheckoutLatency regex=false,team=payments regex=false"; got != want {
		t.Errorf("silence matchers = %s, want %s", got, want)
	}
	if s.Creator != "klaxon" || !strings.Contains(s.Comment, ns+"/"+inc.Name) || !strings.Contains(s.Comment, "acknowledged by") {
		t.Errorf("silence createdBy %q, comment %q", s.Creator, s.Comment)
	}

	// The alerts end while silenced: no resolved notification comes, so
	// polling resolves the incident, and the silence is expired.
	end := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	for _, pod := range []string{"checkout-1", "checkout-2"} {
		am.amtool(t, "alert", "add", "alertname=CheckoutLatency", "team=payments", "severity=critical", "pod="+pod,
			"--annotation=summary=p99 above 2s", "--start="+start.UTC().Format(time.RFC3339), "--end="+end)
	}
	inc = waitForIncident("the incident to resolve through polling", 90*time.Second, func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Phase == klaxonv1alpha1.StateResolved && i.Status.Silence == nil && len(i.Finalizers) == 0
	})
	if last := lastEntry(inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("resolution entry = %+v, want one by alertmanager", last)
	}
	waitForState(first, "expired")

	// It fires again: the incident reopens unsilenced; acknowledged again
	// it gets a new silence, which deleting the incident expires. Another
	// pod fires: Alertmanager logged the silenced alerts' ends as never
	// notified, so a repeat of one it last notified firing waits for
	// repeat_interval (see docs/alerts-in.md).
	am.send(t, checkoutAlert("checkout-3", time.Now(), time.Time{}))
	inc = waitForIncident("the incident to reopen", 30*time.Second, func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Phase == klaxonv1alpha1.StateTriggered && i.Status.Episode == 2
	})
	if inc.Status.Silence != nil {
		t.Errorf("reopened incident has silence %+v", inc.Status.Silence)
	}
	acknowledge(inc)
	inc = waitForIncident("the second silence", 30*time.Second, silenced)
	second := inc.Status.Silence.ID
	if second == first {
		t.Errorf("the second episode reused silence %s", first)
	}
	waitForState(second, "active")
	if err := k8s.Delete(ctx, inc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the incident to be deleted", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	waitForState(second, "expired")
}
