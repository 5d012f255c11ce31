package receiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// countingReader counts the reads made from the API server.
type countingReader struct {
	client.Reader
	gets atomic.Int32
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets.Add(1)
	return c.Reader.Get(ctx, key, obj, opts...)
}

// countingAckReceiver serves a receiver that verifies links with signer
// and counts its reads from the API server.
func countingAckReceiver(t *testing.T, signer *acklink.Signer) (string, *countingReader) {
	t.Helper()
	keys := &acklink.Keyring{}
	keys.Set(signer)
	reads := &countingReader{Reader: mgr.GetAPIReader()}
	rcv := receiver.New(mgr.GetClient(), reads, receiver.Options{GroupIndexed: true, AckKeys: keys}, ctrl.Log.WithName("receiver"))
	srv := httptest.NewServer(rcv.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, reads
}

// staleLink returns a genuine link of an earlier episode of an incident:
// it verifies, but the incident was resolved and reopened since.
func staleLink(t *testing.T, signer *acklink.Signer, base, ns string) string {
	t.Helper()
	inc := triggeredIncident(t, ns, "reopened", "Search is slow")
	link := signer.URL(base, claimsFor(inc, "mallory"))
	setState(t, inc, klaxonv1alpha1.StateResolved)
	waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	setState(t, inc, klaxonv1alpha1.StateTriggered)
	waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 2)
	return link
}

// Replays of an old but genuine link must not spend the budget genuine
// acknowledgements need: while 40 clients replay it, every genuine POST
// acknowledges.
func TestStaleLinkReplaysDoNotStarveAcknowledgements(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base, _ := countingAckReceiver(t, signer)
	stale := staleLink(t, signer, base, ns)
	var genuine []string
	var incidents []*klaxonv1alpha1.Incident
	for i := range 10 {
		inc := triggeredIncident(t, ns, "genuine-"+string(rune('a'+i)), "Checkout is down")
		incidents = append(incidents, inc)
		genuine = append(genuine, signer.URL(base, claimsFor(inc, "ada")))
	}

	stop := make(chan struct{})
	var replays sync.WaitGroup
	var replayed atomic.Int32
	for range 40 {
		replays.Add(1)
		go func() {
			defer replays.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _, _ := fetchQuiet(stale)
				if code == 0 {
					return
				}
				replayed.Add(1)
			}
		}()
	}
	// Let the replays run before the genuine POSTs, as they would in an
	// attack that starts first.
	for replayed.Load() < 200 {
		if code, _, _ := fetchQuiet(stale); code == 0 {
			t.Fatal("the receiver stopped answering")
		}
	}
	var ok atomic.Int32
	var posts sync.WaitGroup
	codes := make([]int, len(genuine))
	for i, link := range genuine {
		posts.Add(1)
		go func() {
			defer posts.Done()
			code, _, _ := fetchQuiet(link)
			codes[i] = code
			if code == http.StatusOK {
				ok.Add(1)
			}
		}()
	}
	posts.Wait()
	close(stop)
	replays.Wait()
	t.Logf("%d of %d genuine POSTs succeeded during %d stale replays from 40 clients", ok.Load(), len(genuine), replayed.Load())
	if int(ok.Load()) != len(genuine) {
		t.Errorf("genuine POSTs answered %v during the replays, want all 200", codes)
	}
	for _, inc := range incidents {
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.State != klaxonv1alpha1.StateAcknowledged {
			t.Errorf("incident %s is %s, want Acknowledged", inc.Name, got.Spec.State)
		}
	}
}

// fetchQuiet POSTs to url and returns the status and the Retry-After
// header; 0 when the request failed.
func fetchQuiet(url string) (int, string, error) {
	resp, err := http.Post(url, "application/x-www-form-urlencoded", nil)
	if err != nil {
		return 0, "", err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// A link that verifies but is no longer valid counts against its sender's
// address like one that fails to verify, and its answer is remembered: a
// replay costs no read from the API server.
func TestStaleLinkCountsAgainstItsAddress(t *testing.T) {
	ns := newNamespace(t)
	signer := ackKey(t)
	base, reads := countingAckReceiver(t, signer)
	stale := staleLink(t, signer, base, ns)
	live := triggeredIncident(t, ns, "live", "Checkout is down")

	before := reads.gets.Load()
	limited := 0
	for i := range 40 {
		code, body, h := fetch(t, http.MethodGet, stale)
		switch {
		case code == http.StatusGone && i < 10:
			if !strings.Contains(body, "earlier episode") {
				t.Errorf("replay %d answered 410 without saying why:\n%s", i, body)
			}
		case code == http.StatusTooManyRequests && i >= 10:
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			limited++
		default:
			t.Fatalf("replay %d answered %d:\n%s", i, code, body)
		}
	}
	if limited != 30 {
		t.Errorf("%d of the 30 replays past the first 10 were limited", limited)
	}
	if got := reads.gets.Load() - before; got != 1 {
		t.Errorf("40 replays of a stale link read the API server %d times, want 1", got)
	}
	// The address is slowed for links no longer valid only: its good
	// links still acknowledge.
	if code, body, _ := fetch(t, http.MethodPost, signer.URL(base, claimsFor(live, "ada"))); code != http.StatusOK || !strings.Contains(body, "Acknowledged by ada") {
		t.Errorf("a genuine link from the slowed address answered %d:\n%s", code, body)
	}
}

// acklinkKeyring sets a receiver's acknowledge link key.
type acklinkKeyring struct{ signer *acklink.Signer }

func (k *acklinkKeyring) set(o *receiver.Options) {
	o.AckKeys = &acklink.Keyring{}
	o.AckKeys.Set(k.signer)
}

// A press of a button of an earlier episode is answered as a stale link
// is: counted against the sender's address, with genuine presses still
// acknowledging.
func TestSlackStaleButtonReplays(t *testing.T) {
	ns := newNamespace(t)
	_, apiURL := newFakeSlackAPI(t)
	slackFixture(t, ns, apiURL)
	now := time.Now()
	base := slackReceiver(t, now)
	inc := triggeredIncident(t, ns, "reopened", "Search is slow")
	stale := slackPress(t, inc, notify.SlackActionAcknowledge, slackUser)
	setState(t, inc, klaxonv1alpha1.StateResolved)
	waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	setState(t, inc, klaxonv1alpha1.StateTriggered)
	inc = waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 2)
	rv := resourceVersion(t, inc)

	earlier, limited := 0, 0
	for range 20 {
		code, body := postSlack(t, base, stale, slackSigningSecret, now)
		switch {
		case code != http.StatusOK:
			t.Fatalf("a stale press answered %d: %s", code, body)
		case strings.Contains(body, "This page is for an earlier episode"):
			earlier++
		case strings.Contains(body, "Too many presses are no longer valid"):
			limited++
		default:
			t.Fatalf("a stale press answered: %s", body)
		}
	}
	if earlier != 10 || limited != 10 {
		t.Errorf("20 stale presses: %d said earlier episode, %d were limited; want 10 and 10", earlier, limited)
	}
	live := triggeredIncident(t, ns, "live", "Checkout is down")
	if code, body := postSlack(t, base, slackPress(t, live, notify.SlackActionAcknowledge, slackUser), slackSigningSecret, now); code != http.StatusOK || !strings.Contains(body, "Acknowledged by ada") {
		t.Errorf("a genuine press from the same address answered %d: %s", code, body)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("stale presses changed the incident: resourceVersion %s, was %s", got, rv)
	}
}
