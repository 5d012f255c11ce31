package receiver

import (
	"bytes"
	"fmt"
	"net/url"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// fuzzIncidents are the incidents a fuzzed reply is matched against: pages
// to two numbers on two channels, in every state, of the current episode
// and an earlier one, of incidents awaiting acknowledgement and not.
func fuzzIncidents() []klaxonv1alpha1.Incident {
	at := func(m int) *metav1.Time {
		t := metav1.NewTime(time.Unix(1_700_000_000, 0).Add(time.Duration(m) * time.Minute))
		return &t
	}
	page := func(responder, channel, address string, episode int32, state klaxonv1alpha1.NotificationState, m int) klaxonv1alpha1.Notification {
		return klaxonv1alpha1.Notification{Responder: responder, Channel: channel, Address: address, Episode: episode, State: state, SentAt: at(m)}
	}
	incident := func(name string, phase, state klaxonv1alpha1.IncidentState, pages ...klaxonv1alpha1.Notification) klaxonv1alpha1.Incident {
		return klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: name, UID: types.UID("uid-" + name)},
			Spec:       klaxonv1alpha1.IncidentSpec{Title: name, State: state},
			Status:     klaxonv1alpha1.IncidentStatus{Phase: phase, Episode: 2, Notifications: pages},
		}
	}
	const sent, failed, pending = klaxonv1alpha1.NotificationSent, klaxonv1alpha1.NotificationFailed, klaxonv1alpha1.NotificationPending
	triggered, acked := klaxonv1alpha1.StateTriggered, klaxonv1alpha1.StateAcknowledged
	return []klaxonv1alpha1.Incident{
		incident("a", triggered, triggered, page("ada", "phones", "+15005550001", 2, sent, 1), page("bob", "phones", "+15005550002", 2, sent, 9)),
		incident("b", triggered, triggered, page("ada", "phones", "+15005550001", 2, sent, 3), page("ada", "other", "+15005550001", 2, sent, 8)),
		incident("c", triggered, triggered, page("ada", "phones", "+15005550001", 1, sent, 7), page("ada", "phones", "+15005550001", 2, failed, 7)),
		incident("d", acked, acked, page("ada", "phones", "+15005550001", 2, sent, 6)),
		incident("e", triggered, acked, page("ada", "phones", "+15005550001", 2, sent, 5)),
		// Sent, but not recorded yet: its code answers it, ACK does not.
		incident("f", triggered, triggered, page("cy", "phones", "+15005550003", 2, pending, 0)),
	}
}

// FuzzSMSReply runs a text's form through the SMS path up to the page it
// picks: the parsers, then the match against the incidents. Whatever the
// form, a picked page was sent through the channel to exactly the number
// the text came from, in the current episode of an incident awaiting
// acknowledgement, with the code the reply carried or as the latest such
// page.
func FuzzSMSReply(f *testing.F) {
	signer, err := acklink.NewSigner(bytes.Repeat([]byte{7}, acklink.MinKeyLength))
	if err != nil {
		f.Fatal(err)
	}
	incs := fuzzIncidents()
	codeOf := func(inc *klaxonv1alpha1.Incident, responder string) string {
		return signer.Code(acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Episode: inc.Status.Episode, Responder: responder})
	}
	form := func(from, body string) string {
		return url.Values{"From": {from}, "Body": {body}, "MessageSid": {fmt.Sprintf("SM%032x", 1)}}.Encode()
	}
	for _, seed := range []string{
		form("+15005550001", "ACK"), form("+15005550001", "1"), form("+15005550002", "ack"),
		form("+15005550001", codeOf(&incs[0], "ada")), form("+15005550001", "ack "+codeOf(&incs[1], "ada")),
		form("+15005550001", codeOf(&incs[3], "ada")), form("+15005550002", codeOf(&incs[0], "ada")),
		form("+15005550003", codeOf(&incs[5], "cy")), form("+15005550003", "ACK"),
		form("+15005550009", "ACK"), form("15005550001", "ACK"), "From=%2B15005550001&Body=ACK&From=%2B15005550002",
		"%%%", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		values, err := twilio.ParseForm(body)
		if err != nil {
			return
		}
		in, err := twilio.ParseIncomingSMS(values)
		if err != nil {
			return
		}
		kind, code := twilio.ParseReply(in.Body, acklink.CodeDigits)
		if kind == twilio.ReplyOther {
			return
		}
		page, ok := repliedPage(incs, "phones", in.From, kind, code, signer)
		if !ok {
			return
		}
		inc := page.inc
		if !awaitsAcknowledgement(inc) {
			t.Fatalf("picked incident %s, which does not await acknowledgement", inc.Name)
		}
		var match *klaxonv1alpha1.Notification
		for i := range inc.Status.Notifications {
			n := &inc.Status.Notifications[i]
			// A code answers a page sent or about to be recorded so; ACK
			// only one recorded as sent.
			answerable := n.State == klaxonv1alpha1.NotificationSent ||
				(kind == twilio.ReplyCode && n.State == klaxonv1alpha1.NotificationPending)
			if n.Responder == page.responder && n.Channel == "phones" && n.Address == in.From &&
				answerable && n.Episode == inc.Status.Episode && n.Event == "" {
				match = n
			}
		}
		if match == nil {
			t.Fatalf("picked %s as %s, but no page of its episode it may answer went through phones to %s", inc.Name, page.responder, in.From)
		}
		switch kind {
		case twilio.ReplyCode:
			if codeOf(inc, page.responder) != code {
				t.Fatalf("the code %s picked %s as %s, whose code is %s", code, inc.Name, page.responder, codeOf(inc, page.responder))
			}
		case twilio.ReplyAcknowledge:
			for i := range incs {
				if !awaitsAcknowledgement(&incs[i]) {
					continue
				}
				for _, n := range incs[i].Status.Notifications {
					if n.Channel == "phones" && n.Address == in.From && n.State == klaxonv1alpha1.NotificationSent &&
						n.Episode == incs[i].Status.Episode && n.SentAt.After(match.SentAt.Time) {
						t.Fatalf("ACK picked %s, but %s had a later page to the number", inc.Name, incs[i].Name)
					}
				}
			}
		}
	})
}

// TestRepliedPageBeforeItsSendIsRecorded answers a text read before the
// operator recorded it as sent: its code picks its page; ACK, which names
// no page, waits for the record.
func TestRepliedPageBeforeItsSendIsRecorded(t *testing.T) {
	signer, err := acklink.NewSigner(bytes.Repeat([]byte{7}, acklink.MinKeyLength))
	if err != nil {
		t.Fatal(err)
	}
	incs := fuzzIncidents()
	f := &incs[5]
	code := signer.Code(acklink.Claims{Namespace: f.Namespace, Name: f.Name, UID: string(f.UID), Episode: f.Status.Episode, Responder: "cy"})
	if page, ok := repliedPage(incs, "phones", "+15005550003", twilio.ReplyCode, code, signer); !ok || page.inc.Name != "f" || page.responder != "cy" {
		t.Errorf("the code of a page not yet recorded as sent picked %+v, %v; want f as cy", page, ok)
	}
	if page, ok := repliedPage(incs, "phones", "+15005550003", twilio.ReplyAcknowledge, "", signer); ok {
		t.Errorf("ACK picked %s, whose page is not recorded as sent", page.inc.Name)
	}
}
