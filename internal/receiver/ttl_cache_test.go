package receiver

import (
	"fmt"
	"testing"
	"time"
)

func TestTTLCacheDropsItsOldestWhenFull(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newTTLCache[string, int](time.Minute, 3)
	for i := range 3 {
		if !c.add(now.Add(time.Duration(i)*time.Second), fmt.Sprint(i), i) {
			t.Fatalf("add %d refused", i)
		}
	}
	if c.add(now, "1", 9) {
		t.Error("a key kept and not expired was added again")
	}
	c.add(now.Add(3*time.Second), "3", 3)
	if _, ok := c.get(now.Add(3*time.Second), "0"); ok {
		t.Error("a full cache kept its oldest entry")
	}
	for _, k := range []string{"1", "2", "3"} {
		if _, ok := c.get(now.Add(3*time.Second), k); !ok {
			t.Errorf("a full cache dropped %s, not only its oldest", k)
		}
	}
	if v, ok := c.get(now.Add(time.Minute+time.Second), "1"); ok {
		t.Errorf("an expired entry is still served: %d", v)
	}
	if !c.add(now.Add(2*time.Minute), "1", 1) {
		t.Error("an expired key could not be added again")
	}
	c.remove("1")
	if _, ok := c.get(now.Add(2*time.Minute), "1"); ok {
		t.Error("a removed key is still served")
	}
}

func TestScopedCacheKeepsScopesApart(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newScopedCache[string, struct{}](time.Minute, 10)
	c.scope(now, "a/phones").add(now, "kept", struct{}{})
	noisy := c.scope(now, "b/phones")
	for i := range 100 {
		noisy.add(now, fmt.Sprint(i), struct{}{})
	}
	if _, ok := c.scope(now, "a/phones").get(now, "kept"); !ok {
		t.Error("filling one scope dropped another's entry")
	}
	// A scope that keeps nothing is dropped when another is made.
	later := now.Add(2 * time.Minute)
	c.scope(later, "c/phones")
	if n := len(c.scopes); n != 1 {
		t.Errorf("%d scopes kept after the others expired, want 1", n)
	}
}
