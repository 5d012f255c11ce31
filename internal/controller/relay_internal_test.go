package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// reader answers every Get with err, or with an incident titled title,
// and counts the reads.
type reader struct {
	title string
	err   error
	reads int
}

func (r *reader) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	r.reads++
	if r.err != nil {
		return r.err
	}
	obj.(*klaxonv1alpha1.Incident).Spec.Title = r.title
	return nil
}

func (r *reader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("not listed")
}

func TestRelayReadsFromTheAPIServerOnlyWhileTheCacheMayBeBehind(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "inc"}
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: "klaxon.dev", Resource: "incidents"}, "inc")
	for _, tc := range []struct {
		name string
		// handedOff is how long ago the key was handed off; <0 never.
		handedOff time.Duration
		// watchFailed is how long ago a watch failed; <0 never.
		watchFailed time.Duration
		cacheErr    error
		want        string
		wantAPI     bool
	}{
		{name: "not handed off, cached", handedOff: -1, watchFailed: -1, want: "cached"},
		{name: "not handed off, not cached", handedOff: -1, watchFailed: -1, cacheErr: notFound, want: "not found"},
		{name: "not handed off, watch failed", handedOff: -1, watchFailed: time.Second, want: "cached"},
		{name: "handed off, cached, watches healthy", handedOff: time.Second, watchFailed: -1, want: "cached"},
		{name: "handed off, not yet cached", handedOff: time.Second, watchFailed: -1, cacheErr: notFound, want: "live", wantAPI: true},
		{name: "handed off, a watch failed lately", handedOff: time.Second, watchFailed: 10 * time.Second, want: "live", wantAPI: true},
		{name: "handed off, a watch failed long ago", handedOff: time.Second, watchFailed: relayFresh, want: "cached"},
		{name: "handed off long ago, not cached", handedOff: relayFresh, watchFailed: -1, cacheErr: notFound, want: "not found"},
		{name: "handed off, the cache fails otherwise", handedOff: time.Second, watchFailed: -1, cacheErr: errors.New("boom"), want: "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
			clk := testingclock.NewFakePassiveClock(start)
			h := NewRelay(clk)
			if tc.watchFailed >= 0 {
				clk.SetTime(start.Add(-tc.watchFailed))
				h.mu.Lock()
				h.lastFailure = clk.Now()
				h.mu.Unlock()
			}
			if tc.handedOff >= 0 {
				clk.SetTime(start.Add(-tc.handedOff))
				h.Enqueue(key)
			}
			clk.SetTime(start)
			cache, api := &reader{title: "cached", err: tc.cacheErr}, &reader{title: "live"}
			inc := &klaxonv1alpha1.Incident{}
			err := h.get(context.Background(), cache, api, key, inc)
			got := inc.Spec.Title
			switch {
			case apierrors.IsNotFound(err):
				got = "not found"
			case err != nil:
				got = err.Error()
			}
			if got != tc.want || (api.reads > 0) != tc.wantAPI {
				t.Errorf("read %q with %d API reads, want %q from the API server: %t", got, api.reads, tc.want, tc.wantAPI)
			}
		})
	}
}

// A status write that conflicted makes the incident read from the API
// server while the watches may be behind, as a relayed one is.
func TestRelayReadsAnIncidentWhoseWriteConflictedLive(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "inc"}
	clk := testingclock.NewFakePassiveClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	h := NewRelay(clk)
	h.lastFailure = clk.Now()
	cache, api := &reader{title: "cached"}, &reader{title: "live"}
	inc := &klaxonv1alpha1.Incident{}
	if err := h.get(context.Background(), cache, api, key, inc); err != nil || inc.Spec.Title != "cached" {
		t.Fatalf("before the conflict: read %q, %v; want the cached copy", inc.Spec.Title, err)
	}
	h.behind(key)
	if err := h.get(context.Background(), cache, api, key, inc); err != nil || inc.Spec.Title != "live" {
		t.Errorf("after the conflict: read %q, %v; want the API server's copy", inc.Spec.Title, err)
	}
	clk.SetTime(clk.Now().Add(relayFresh))
	if err := h.get(context.Background(), cache, api, key, inc); err != nil || inc.Spec.Title != "cached" {
		t.Errorf("once the watches are long healthy: read %q, %v; want the cached copy", inc.Spec.Title, err)
	}
}

// A nil Relay (a reconciler without one) reads the cache only.
func TestNilRelayReadsTheCache(t *testing.T) {
	var h *Relay
	h.Enqueue(types.NamespacedName{Name: "x"})
	cache, api := &reader{title: "cached"}, &reader{title: "live"}
	inc := &klaxonv1alpha1.Incident{}
	if err := h.get(context.Background(), cache, api, types.NamespacedName{Name: "x"}, inc); err != nil || inc.Spec.Title != "cached" || api.reads != 0 {
		t.Errorf("read %q, %v with %d API reads; want the cached copy", inc.Spec.Title, err, api.reads)
	}
}

// The relayed incidents remembered stay bounded, the newest kept.
func TestRelayForgetsTheOldestPastItsBound(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clk := testingclock.NewFakePassiveClock(start)
	h := NewRelay(clk)
	for i := range maxRelayed + 10 {
		clk.SetTime(start.Add(time.Duration(i) * time.Millisecond))
		h.Enqueue(types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("inc-%d", i)})
	}
	if n := len(h.recent); n > maxRelayed || n < maxRelayed/4 {
		t.Errorf("%d relayed incidents remembered, want at most %d and not nearly none", n, maxRelayed)
	}
	newest := types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("inc-%d", maxRelayed+9)}
	if !h.live(newest, true) {
		t.Error("the newest relayed incident was forgotten")
	}
	if h.live(types.NamespacedName{Namespace: "ns", Name: "inc-0"}, true) {
		t.Error("the oldest relayed incident is still remembered")
	}
}

func TestWatchFailed(t *testing.T) {
	gr := schema.GroupResource{Group: "klaxon.dev", Resource: "incidents"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"server error", apierrors.NewInternalError(errors.New("etcd")), true},
		{"timeout", apierrors.NewTimeoutError("slow", 1), true},
		{"closed normally", io.EOF, false},
		{"expired", apierrors.NewResourceExpired("too old resource version"), false},
		{"forbidden", apierrors.NewForbidden(gr, "", errors.New("no")), false},
		{"not served", apierrors.NewNotFound(gr, ""), false},
	} {
		if got := watchFailed(tc.err); got != tc.want {
			t.Errorf("%s: watchFailed = %t, want %t", tc.name, got, tc.want)
		}
	}
}

// A request the API server did not answer marks the watches as maybe
// behind; one it answered with a refusal does not.
func TestRelayAPIFailed(t *testing.T) {
	gr := schema.GroupResource{Group: "klaxon.dev", Resource: "incidents"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), true},
		{"unavailable", apierrors.NewServiceUnavailable("starting"), true},
		{"internal error", apierrors.NewInternalError(errors.New("etcd")), true},
		{"timeout", apierrors.NewTimeoutError("slow", 1), true},
		{"none", nil, false},
		{"not found", apierrors.NewNotFound(gr, "x"), false},
		{"conflict", apierrors.NewConflict(gr, "x", errors.New("changed")), false},
		{"forbidden", apierrors.NewForbidden(gr, "x", errors.New("no")), false},
	} {
		h := NewRelay(testingclock.NewFakePassiveClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)))
		h.APIFailed(tc.err)
		if got := h.watchesBehind(); got != tc.want {
			t.Errorf("%s: behind = %t, want %t", tc.name, got, tc.want)
		}
	}
	var nilRelay *Relay
	nilRelay.APIFailed(errors.New("connection refused")) // no panic
}
