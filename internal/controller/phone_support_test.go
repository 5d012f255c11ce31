package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// The account of the Twilio stand-in. A test SID has Twilio's form: AC and
// 32 hex digits.
const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
)

// twilioAPI answers as Twilio's REST API documents the creation of a
// Message and of a Call: POST /2010-04-01/Accounts/{AccountSid}/Messages.json
// (or Calls.json), form-encoded, HTTP basic authentication with the account
// SID and auth token; 201 with the new resource as JSON, its sid first of
// all; Twilio's error JSON (code, message, more_info, status) otherwise.
type twilioAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []twilioRequest
}

// twilioRequest is one resource created: "Messages" or "Calls", its form
// and the SID it was given.
type twilioRequest struct {
	resource, sid string
	form          url.Values
}

func newTwilioAPI(t *testing.T) *twilioAPI {
	t.Helper()
	api := &twilioAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.Close)
	return api
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (api *twilioAPI) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != twilioSID || pass != twilioToken {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	prefix := "/2010-04-01/Accounts/" + twilioSID + "/"
	resource, found := strings.CutPrefix(r.URL.Path, prefix)
	resource, isJSON := strings.CutSuffix(resource, ".json")
	if !found || !isJSON || (resource != "Messages" && resource != "Calls") {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodPost {
		twilioError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		twilioError(w, http.StatusBadRequest, 20001, "Invalid request body")
		return
	}
	switch {
	case !twilio.IsPhoneNumber(form.Get("To")):
		twilioError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", form.Get("To")))
		return
	case form.Get("From") == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case resource == "Messages" && form.Get("Body") == "":
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case resource == "Calls" && form.Get("Url") == "" && form.Get("Twiml") == "":
		twilioError(w, http.StatusBadRequest, 21205, "Url parameter is required.")
		return
	}
	api.mu.Lock()
	prefixSID := "SM"
	if resource == "Calls" {
		prefixSID = "CA"
	}
	sid := fmt.Sprintf("%s%032x", prefixSID, len(api.requests)+1)
	api.requests = append(api.requests, twilioRequest{resource: resource, sid: sid, form: form})
	api.mu.Unlock()
	answer := map[string]any{
		"sid": sid, "account_sid": twilioSID, "to": form.Get("To"), "from": form.Get("From"),
		"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
		"date_created": time.Now().UTC().Format(time.RFC1123Z),
		"uri":          prefix + resource + "/" + sid + ".json",
	}
	if resource == "Messages" {
		answer["body"] = form.Get("Body")
		answer["num_segments"] = "1"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(answer)
}

func (api *twilioAPI) created() []twilioRequest {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]twilioRequest(nil), api.requests...)
}

// twilioChannel creates a twilio channel to api, its credentials in a
// marked Secret, in a namespace that lets the operator read it.
func twilioChannel(t *testing.T, ns, name string, api *twilioAPI, limits *klaxonv1alpha1.PhoneLimits) *klaxonv1alpha1.NotificationChannel {
	t.Helper()
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	channelSecret(t, ns, name+"-twilio", true, map[string]string{"sid": twilioSID, "token": twilioToken + "\n"})
	return createChannel(t, ns, name, klaxonv1alpha1.NotificationChannelSpec{Twilio: &klaxonv1alpha1.TwilioChannel{
		AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: name + "-twilio", Key: "sid"},
		AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: name + "-twilio", Key: "token"},
		From:                "+15005550006", BaseURL: api.URL, Limits: limits,
	}})
}

// publicOperator replaces the shared operator, for the rest of the test,
// by one with a public URL (its receiver's address), as twilio channels
// need, and returns that URL once the acknowledge key is loaded.
func publicOperator(t *testing.T) string {
	t.Helper()
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	addr := proc.FreeAddr(t)
	publicURL := "http://" + addr
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: addr, PublicURL: publicURL, Clock: fakeClock, Restartable: true,
		EgressAllow: suite.LoopbackEgress,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})
	// The receiver answers 503 for an acknowledge page until the key is
	// loaded; after that pages carry their tokens.
	eventually(t, "the acknowledge key to load", func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, publicURL+"/ack/x", nil)
		// A refused connection means the receiver is not listening yet.
		code := 0
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			code = resp.StatusCode
		}
		return code != 0 && code != http.StatusServiceUnavailable, nil
	})
	return publicURL
}

// ackSigner is the signer of the operators' acknowledge key.
func ackSigner(t *testing.T) *acklink.Signer {
	t.Helper()
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: keystore.DefaultNamespace, Name: keystore.SecretName}, secret); err != nil {
		t.Fatal(err)
	}
	s, err := acklink.NewSigner(secret.Data[keystore.SecretKey])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireTwilioSender skips the test when this tree's twilio sender sends
// nothing (a placeholder kept while the sender is built elsewhere). It
// probes a stand-in of its own.
func requireTwilioSender(t *testing.T) {
	t.Helper()
	api := newTwilioAPI(t)
	s, err := twilio.New(twilio.Config{BaseURL: api.URL, AccountSID: twilioSID, AuthToken: twilioToken, From: "+15005550006",
		PublicURL: "https://klaxon.example.com", Namespace: "probe", Channel: "probe", Egress: suite.LoopbackPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), &notify.Message{Address: "+15005550001", Incident: notify.Incident{Title: "probe", Severity: "SEV3"}})
	if err != nil && strings.Contains(err.Error(), "this build cannot send through Twilio") {
		t.Skip("this tree's twilio sender is a placeholder")
	}
}

// phoneResponder creates alice with the given contacts, each with a rule
// (after, when set for its name, delays it).
func phoneResponder(t *testing.T, ns, name string, after map[string]time.Duration, contacts ...klaxonv1alpha1.Contact) *klaxonv1alpha1.Responder {
	t.Helper()
	r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{Contacts: contacts}}
	for _, c := range contacts {
		rule := klaxonv1alpha1.NotificationRule{Contact: c.Name}
		if d, ok := after[c.Name]; ok {
			rule.After = &metav1.Duration{Duration: d}
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	if err := k8s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// namespaceEventNotes returns the notes of the namespace's Events, and
// whether one has the reason.
func namespaceEventNotes(ctx context.Context, ns, reason string) ([]string, bool, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, false, err
	}
	var notes []string
	found := false
	for _, e := range list.Items {
		notes = append(notes, e.Note)
		found = found || e.Reason == reason
	}
	return notes, found, nil
}

// conditionMessage is the message of the incident's condition, "" when
// absent.
func conditionMessage(inc *klaxonv1alpha1.Incident, condType string) string {
	if c := meta.FindStatusCondition(inc.Status.Conditions, condType); c != nil {
		return c.Message
	}
	return ""
}
