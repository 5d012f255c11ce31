package receiver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretReader serves one Secret, as a GET of it would.
type secretReader struct {
	client.Reader
	secret *corev1.Secret
}

func (r secretReader) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	r.secret.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

// What the fallback keeps of a route token is its digest, for a day from
// its last read; channel credentials read through the same cache are not
// kept at all.
func TestRouteTokenMemory(t *testing.T) {
	const token, credential = "route-token-value", "slack-signing-secret-value"
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tokens", Labels: map[string]string{TokenSecretLabel: "true"}},
		Data:       map[string][]byte{"token": []byte(token + "\n"), "signing": []byte(credential)},
	}
	clk := testingclock.NewFakeClock(time.Now())
	c := newTokenCache(secretReader{secret: secret}, clk)
	key := client.ObjectKeyFromObject(secret)
	if _, err := c.get(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	c.keepRouteToken(key, "token")

	c.mu.Lock()
	kept := fmt.Sprintf("%v %+v", c.last, c.last)
	fields := len(c.last[key])
	c.mu.Unlock()
	for _, v := range []string{token, credential, strings.Trim(fmt.Sprintf("%d", []byte(token)), "[]"), strings.Trim(fmt.Sprintf("%d", []byte(credential)), "[]")} {
		if strings.Contains(kept, v) {
			t.Fatalf("the kept tokens %s hold a secret's bytes", kept)
		}
	}
	if fields != 1 {
		t.Fatalf("%d keys of the Secret kept, want the route token's alone", fields)
	}
	if !c.lastKnownMatches(key, "token", []byte(token)) {
		t.Fatal("the route token does not match as last read")
	}
	for name, v := range map[string]string{"another token": "guess", "the channel credential": credential} {
		field := "token"
		if name == "the channel credential" {
			field = "signing"
		}
		if c.lastKnownMatches(key, field, []byte(v)) {
			t.Fatalf("%s matches", name)
		}
	}
	clk.Step(routeTokenMemory - time.Second)
	if !c.lastKnownMatches(key, "token", []byte(token)) {
		t.Fatal("the route token no longer matches before a day has passed")
	}
	clk.Step(time.Second)
	if c.lastKnownMatches(key, "token", []byte(token)) {
		t.Fatal("the route token still matches a day after it was read")
	}
}
