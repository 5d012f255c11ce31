package controller

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

func TestAckLinkOptions(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "checkout", UID: "1f0e"},
		Status:     klaxonv1alpha1.IncidentStatus{Episode: 2},
	}
	signer, err := acklink.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys := &acklink.Keyring{}

	if _, ok := buildOptions(nil).ackLinks.link("https://klaxon.example", inc, "ada", now); ok {
		t.Error("a link without WithAckLinks")
	}
	o := buildOptions([]Option{WithAckLinks(keys, time.Hour)}).ackLinks
	if _, ok := o.link("https://klaxon.example", inc, "ada", now); ok {
		t.Error("a link before the key is loaded")
	}
	keys.Set(signer)
	if _, ok := o.link("", inc, "ada", now); ok {
		t.Error("a link without a public URL")
	}
	if _, ok := o.link("https://klaxon.example", inc, "", now); ok {
		t.Error("a link without a responder")
	}
	link, ok := o.link("https://klaxon.example", inc, "ada", now)
	token, found := strings.CutPrefix(link.URL, "https://klaxon.example/ack/")
	if !ok || !found || token != link.Token {
		t.Fatalf("link %+v, %v", link, ok)
	}
	c, err := signer.Verify(token, now)
	want := acklink.Claims{Namespace: "payments", Name: "checkout", UID: "1f0e", Episode: 2, Responder: "ada", Expires: now.Add(time.Hour)}
	if err != nil || c != want {
		t.Errorf("claims %+v, %v; want %+v", c, err, want)
	}
	// The reply code is the code of the same page, whatever the expiry.
	if code := signer.Code(want); link.Code != code || len(code) != acklink.CodeDigits {
		t.Errorf("code %q, want %q", link.Code, code)
	}
	later, _ := o.link("https://klaxon.example", inc, "ada", now.Add(time.Minute))
	if later.Token == link.Token || later.Code != link.Code {
		t.Errorf("a later link of the same page: token %q (was %q), code %q (was %q)", later.Token, link.Token, later.Code, link.Code)
	}
	other, _ := o.link("https://klaxon.example", inc, "bob", now)
	if other.Code == link.Code {
		t.Errorf("bob's code %q is ada's", other.Code)
	}
}
