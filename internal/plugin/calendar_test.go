package plugin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

const scheduleGuide = "docs/schedules-and-escalation.md"

// calendarKeys reads the namespace's calendar keys Secret.
func calendarKeys(t *testing.T, ns string) corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: acklink.CalendarKeysSecret}, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// feedToken returns the token of the one URL out holds, checking the
// URL's path.
func feedToken(t *testing.T, out, wantPath string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("printed %q, want one line", out)
	}
	u, err := url.Parse(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != wantPath {
		t.Errorf("path %q, want %q", u.Path, wantPath)
	}
	return u.Query().Get("token")
}

// verifies reports whether token opens the feed c under key.
func verifies(t *testing.T, key []byte, token string, c acklink.CalendarClaims) bool {
	t.Helper()
	signer, err := acklink.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := signer.VerifyCalendar(token)
	return err == nil && got == c
}

// The first URL makes the feed's key; later ones reuse it; --rotate
// replaces it, so the old URL stops verifying, and leaves other feeds'
// keys alone.
func TestCalendarCommandKeysAndRotation(t *testing.T) {
	ns := newNamespace(t)
	alice := acklink.CalendarClaims{Namespace: ns, Kind: acklink.CalendarResponder, Name: "alice"}
	run := func(args ...string) result {
		return kubectlKlaxonEnv(cluster.AdminConfig, now, map[string]string{"KLAXON_PUBLIC_URL": "https://klaxon.example.com"},
			append([]string{"-n", ns, "calendar"}, args...)...)
	}
	first := run("--user", "alice")
	if first.err != nil {
		t.Fatal(first.err)
	}
	token := feedToken(t, first.out, "/calendar/"+ns+"/responder/alice.ics")
	secret := calendarKeys(t, ns)
	if secret.Labels[acklink.CalendarKeysLabel] != "true" {
		t.Errorf("the Secret's labels: %v", secret.Labels)
	}
	if !verifies(t, secret.Data["responder.alice"], token, alice) {
		t.Fatal("the printed token does not verify with the feed's key")
	}
	if again := run("--user", "alice"); again.out != first.out {
		t.Errorf("a second run printed %q, want the same URL %q", again.out, first.out)
	}
	bob := run("--user", "bob", "--weeks", "12")
	if bob.err != nil || !strings.HasSuffix(strings.TrimSpace(bob.out), "&weeks=12") {
		t.Fatalf("bob's URL: %q, %v", bob.out, bob.err)
	}
	bobKey := calendarKeys(t, ns).Data["responder.bob"]

	rotated := run("--user", "alice", "--rotate")
	if rotated.err != nil {
		t.Fatal(rotated.err)
	}
	if !strings.Contains(rotated.errOut, "stop working") {
		t.Errorf("--rotate says %q", rotated.errOut)
	}
	newToken := feedToken(t, rotated.out, "/calendar/"+ns+"/responder/alice.ics")
	after := calendarKeys(t, ns)
	if verifies(t, after.Data["responder.alice"], token, alice) {
		t.Error("the old token still verifies after --rotate")
	}
	if !verifies(t, after.Data["responder.alice"], newToken, alice) {
		t.Error("the new token does not verify")
	}
	if string(after.Data["responder.bob"]) != string(bobKey) {
		t.Error("rotating alice's key changed bob's")
	}
}

func TestCalendarCommandRefusals(t *testing.T) {
	ns := newNamespace(t)
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no public URL":    {nil, []string{"--user", "alice"}, "no public URL: give --public-url or set KLAXON_PUBLIC_URL"},
		"both":             {nil, []string{"--user", "alice", "--schedule", "s", "--public-url", "https://k.example.com"}, "give exactly one of --user"},
		"neither":          {nil, []string{"--public-url", "https://k.example.com"}, "give exactly one of --user"},
		"weeks":            {nil, []string{"--user", "alice", "--weeks", "27", "--public-url", "https://k.example.com"}, "--weeks 27: give 1 to 26"},
		"not a URL":        {map[string]string{"KLAXON_PUBLIC_URL": "klaxon.example.com"}, []string{"--user", "alice"}, "give an http or https URL"},
		"unknown schedule": {nil, []string{"--schedule", "nope", "--public-url", "https://k.example.com"}, "cannot read OnCallSchedule " + ns + "/nope"},
	} {
		t.Run(name, func(t *testing.T) {
			r := kubectlKlaxonEnv(cluster.AdminConfig, now, tc.env, append([]string{"-n", ns, "calendar"}, tc.args...)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", r.err, tc.want)
			}
		})
	}
}

// signature is a token's MAC, which differs with every key.
var signature = regexp.MustCompile(`\.[A-Za-z0-9_-]{43}$`)

// The guide's command prints what the guide shows, but for the
// signature, which is made with a new random key.
func TestScheduleGuideCalendar(t *testing.T) {
	cmdline, want, got := guideRun(t, docsnippet.Block(t, scheduleGuide, "calendar-url"), now)
	mask := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			out = append(out, signature.ReplaceAllString(l, ".SIGNATURE"))
		}
		return strings.Join(out, "\n")
	}
	if diff := cmp.Diff(mask(want), mask(got)); diff != "" {
		t.Errorf("%s in %s prints (-guide +got):\n%s", cmdline, scheduleGuide, diff)
	}
	if !signature.MatchString(strings.TrimSpace(got)) {
		t.Errorf("the URL %q does not end with a token's signature", got)
	}
}

// The printed URL opens the feed on a real receiver, and after --rotate
// only the new one does.
func TestCalendarURLOpensTheFeed(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	schedule := &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "payments-primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
			{Name: "days", Participants: []string{"alice", "bob"}, Start: "2026-11-02T09:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}},
		}}}
	if err := k8s.Create(ctx, schedule); err != nil {
		t.Fatal(err)
	}
	// No operator runs here: the receiver reads straight from the API
	// server, whose answers the cache would hold.
	rcv := receiver.New(k8s, k8s, receiver.Options{Clock: testingclock.NewFakePassiveClock(now)}, logr.Discard())
	srv := httptest.NewServer(rcv.Handler())
	t.Cleanup(srv.Close)
	link := func(args ...string) string {
		r := kubectlKlaxonEnv(cluster.AdminConfig, now, map[string]string{"KLAXON_PUBLIC_URL": srv.URL},
			append([]string{"-n", ns, "calendar", "--user", "alice"}, args...)...)
		if r.err != nil {
			t.Fatal(r.err)
		}
		return strings.TrimSpace(r.out)
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	old := link()
	code, body := get(old)
	if code != http.StatusOK || !strings.Contains(body, "SUMMARY:On call: payments-primary") {
		t.Fatalf("the printed URL answers %d:\n%s", code, body)
	}
	fresh := link("--rotate")
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		code, _ := get(old)
		return code == http.StatusForbidden, nil
	}); err != nil {
		t.Fatalf("the URL from before --rotate still opens the feed: %v", err)
	}
	if code, body := get(fresh); code != http.StatusOK {
		t.Errorf("the URL --rotate printed answers %d: %s", code, body)
	}
}
