package receiver_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
)

// slowIncidentPatches is the operator's client, except that each patch of
// an incident of namespace ns is held until release is closed or its
// context ends: each held patch sends its context to held, and the error
// that ended it, if its context did, to ended.
func slowIncidentPatches(ns string, release <-chan struct{}) (c client.Client, held chan context.Context, ended chan error) {
	held, ended = make(chan context.Context, 8), make(chan error, 8)
	c = interceptor.NewClient(withWatch{mgr.GetClient()}, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if _, ok := obj.(*klaxonv1alpha1.Incident); ok && obj.GetNamespace() == ns {
				held <- ctx
				select {
				case <-release:
				case <-ctx.Done():
					ended <- ctx.Err()
					return ctx.Err()
				}
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
	})
	return c, held, ended
}

// receive waits for a value from ch.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
		panic("unreachable")
	}
}

// A command slower than the wait is answered "Working on it…", and its
// outcome follows at the command's response_url; a replay changes nothing
// twice, and commands past the bound are refused, changing nothing.
func TestSlackCommandsAnswerLater(t *testing.T) {
	ns := newNamespace(t)
	secret := commandFixture(t, ns)
	now := time.Now()
	receiver.TuneSlackCommands(t, 200*time.Millisecond, 2)
	slack := slacktest.StartResponder(t)
	release := make(chan struct{})
	c, held, _ := slowIncidentPatches(ns, release)
	base := newReceiver(t, c, func(o *receiver.Options) { o.Clock = testingclock.NewFakePassiveClock(now) }).URL
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")

	update := slashCommandIn(slackChannelID, slack.URL, slackUser, "update checkout-down Rolled back, watching")
	for i := range 2 {
		// The second is a replay while the first is still held.
		if a := postCommand(t, base, update, secret, now); a.Code != http.StatusOK || a.ResponseType != "ephemeral" || a.Text != "Working on it…" {
			t.Fatalf("update %d: %+v", i, a)
		}
		receive(t, "held patch", held)
	}
	// Both slots are taken: a third command is refused and changes nothing.
	if a := postCommand(t, base, slashCommandIn(slackChannelID, slack.URL, slackUser, "ack checkout-down"), secret, now); !strings.Contains(a.Text, "busy") ||
		!strings.Contains(a.Text, "Nothing was changed") {
		t.Fatalf("a command past the bound: %+v", a)
	}
	if got := slack.Responses(); len(got) != 0 {
		t.Fatalf("outcomes posted before the commands were done: %+v", got)
	}

	close(release)
	got := slack.Wait(t, 2, 30*time.Second)
	var posted, refused int
	for _, r := range got {
		switch {
		case r.ReplaceOriginal == nil || *r.ReplaceOriginal:
			t.Errorf("an outcome replaces the original answer: %+v", r)
		case r.ResponseType == "in_channel" && r.Text == "ada posted an update to incident "+ns+"/checkout-down: Rolled back, watching":
			posted++
		case r.ResponseType == "ephemeral" && strings.Contains(r.Text, "Nothing was changed"):
			refused++
		default:
			t.Errorf("unexpected outcome %+v", r)
		}
	}
	if posted != 1 || refused != 1 {
		t.Errorf("outcomes %+v; want one update posted and its replay refused", got)
	}

	// Not held any more: answered directly, and nothing posted later.
	var a commandAnswer
	eventually(t, "a slot to free up", func(context.Context) (bool, error) {
		a = postCommand(t, base, update, secret, now)
		return !strings.Contains(a.Text, "busy"), nil
	})
	if !strings.Contains(a.Text, "already posted") {
		t.Errorf("replay after the update: %+v", a)
	}
	latest := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), latest); err != nil {
		t.Fatal(err)
	}
	if len(latest.Spec.Updates) != 1 || latest.Spec.Updates[0].Author != "ada" || latest.Spec.State != klaxonv1alpha1.StateTriggered {
		t.Errorf("state %s, updates %+v; want Triggered with one update by ada", latest.Spec.State, latest.Spec.Updates)
	}
	if got := slack.Responses(); len(got) != 2 {
		t.Errorf("%d outcomes posted, want 2: %+v", len(got), got)
	}
}

// A command behind "Working on it…" ends when the server shuts down.
func TestSlackCommandsEndWithTheServer(t *testing.T) {
	ns := newNamespace(t)
	secret := commandFixture(t, ns)
	now := time.Now()
	receiver.TuneSlackCommands(t, 200*time.Millisecond, 2)
	slack := slacktest.StartResponder(t)
	c, held, ended := slowIncidentPatches(ns, nil)
	srv := newReceiver(t, c, func(o *receiver.Options) { o.Clock = testingclock.NewFakePassiveClock(now) })
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")

	if a := postCommand(t, srv.URL, slashCommandIn(slackChannelID, slack.URL, slackUser, "ack checkout-down"), secret, now); a.Text != "Working on it…" {
		t.Fatalf("ack: %+v", a)
	}
	receive(t, "held patch", held)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Canceled, not past its own deadline.
	if err := receive(t, "end of the held patch", ended); !errors.Is(err, context.Canceled) {
		t.Errorf("the command ended with %v, want it canceled", err)
	}
	if got := waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1); got.Spec.State != klaxonv1alpha1.StateTriggered {
		t.Errorf("state %s, want Triggered", got.Spec.State)
	}
}
