package controller

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// After an outage every open incident has failed many times; paging must
// resume within seconds for all of them.
func TestIncidentRetriesStayShortForEveryIncident(t *testing.T) {
	limiter := incidentRetries()
	one := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "failing"}}
	var delay time.Duration
	for range 30 { // a 20 s outage fails an incident about this often
		delay = limiter.When(one)
	}
	if delay != maxIncidentRetryDelay {
		t.Errorf("after 30 failures an incident waits %s, want the cap %s", delay, maxIncidentRetryDelay)
	}
	// Hundreds of incidents failing at once are all retried at once, not
	// ten a second.
	for i := range 300 {
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: fmt.Sprint("incident-", i)}}
		if d := limiter.When(req); d > 10*time.Millisecond {
			t.Fatalf("incident %d's first retry waits %s", i, d)
		}
	}
}
