package controller

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// incidents lists its items, pageSize at a time when the caller gives a
// limit, and records the namespaces asked for.
type incidents struct {
	items      []klaxonv1alpha1.Incident
	pageSize   int
	namespaces []string
}

func (l *incidents) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("not read")
}

func (l *incidents) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	l.namespaces = append(l.namespaces, o.Namespace)
	var items []klaxonv1alpha1.Incident
	for _, inc := range l.items {
		if o.Namespace == "" || inc.Namespace == o.Namespace {
			items = append(items, inc)
		}
	}
	start, _ := strconv.Atoi(o.Continue)
	end := len(items)
	out := list.(*klaxonv1alpha1.IncidentList)
	if o.Limit > 0 && start+l.pageSize < end {
		end = start + l.pageSize
		out.Continue = strconv.Itoa(end)
	}
	out.Items = items[start:end]
	return nil
}

func incident(ns, name, version string) klaxonv1alpha1.Incident {
	return klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: version}}
}

// After an outage the leader relays the incidents its cache lacks or holds
// at another version, through every page of the list, in its namespaces.
func TestCatchUpRelaysWhatTheCacheIsBehindOn(t *testing.T) {
	api := &incidents{pageSize: 2, items: []klaxonv1alpha1.Incident{
		incident("a", "same", "10"), incident("a", "newer", "12"), incident("a", "new", "13"),
		incident("b", "new-in-b", "14"), incident("c", "elsewhere", "15"),
	}}
	cache := &incidents{items: []klaxonv1alpha1.Incident{incident("a", "same", "10"), incident("a", "newer", "11"), incident("a", "gone", "9")}}
	clk := testingclock.NewFakePassiveClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	relay := NewRelay(clk, "a", "b")
	c := &catchUp{relay: relay, api: api, cache: cache}
	n, err := c.once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []types.NamespacedName{{Namespace: "a", Name: "newer"}, {Namespace: "a", Name: "new"}, {Namespace: "b", Name: "new-in-b"}}
	if n != len(want) || len(relay.recent) != len(want) {
		t.Errorf("relayed %d (%v), want %v", n, relay.recent, want)
	}
	for _, key := range want {
		if _, ok := relay.recent[key]; !ok {
			t.Errorf("%s was not relayed", key)
		}
	}
	if got := api.namespaces; len(got) != 3 || got[0] != "a" || got[1] != "a" || got[2] != "b" {
		t.Errorf("listed the API server in namespaces %q, want a (two pages) and b", got)
	}
}

// With healthy watches the catch-up lists nothing; it does while a watch
// failed within relayFresh.
func TestCatchUpOnlyWhileTheWatchesMayBeBehind(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clk := testingclock.NewFakePassiveClock(start)
	relay := NewRelay(clk)
	if relay.watchesBehind() {
		t.Error("behind before any watch failed")
	}
	relay.lastFailure = start
	clk.SetTime(start.Add(relayFresh - time.Second))
	if !relay.watchesBehind() {
		t.Error("not behind right after a watch failed")
	}
	clk.SetTime(start.Add(relayFresh))
	if relay.watchesBehind() {
		t.Error("still behind long after the last watch failure")
	}
	if got := relay.scopes(); len(got) != 1 || got[0] != "" {
		t.Errorf("scopes of a relay of every namespace = %q, want one cluster-wide list", got)
	}
}
