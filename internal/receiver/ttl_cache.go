package receiver

import (
	"sync"
	"time"
)

// ttlCache remembers values for a fixed time, at most max of them. Every
// entry lives as long, so the order entries were added in is the order
// they expire in: when the cache is full it drops its oldest entries, and
// a burst of new ones pushes out old ones only, never everything.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[K]ttlEntry[V]
	// order holds the keys in the order they were added; an entry whose
	// seq differs was removed or added again since.
	order []ttlKey[K]
	seq   uint64
}

type ttlEntry[V any] struct {
	value   V
	expires time.Time
	seq     uint64
}

type ttlKey[K comparable] struct {
	key K
	seq uint64
}

func newTTLCache[K comparable, V any](ttl time.Duration, maxEntries int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: maxEntries, entries: map[K]ttlEntry[V]{}}
}

// get returns the value kept under k, unless it expired.
func (c *ttlCache[K, V]) get(now time.Time, k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// add keeps v under k for the cache's TTL and reports true, unless a value
// that has not expired is kept under k already: then it keeps that one and
// reports false.
func (c *ttlCache[K, V]) add(now time.Time, k K, v V) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok && now.Before(e.expires) {
		return false
	}
	for len(c.order) > 0 {
		oldest := c.order[0]
		e, live := c.entries[oldest.key]
		live = live && e.seq == oldest.seq
		if live && now.Before(e.expires) && len(c.entries) < c.max {
			break
		}
		if live {
			delete(c.entries, oldest.key)
		}
		c.order = c.order[1:]
	}
	c.seq++
	c.entries[k] = ttlEntry[V]{value: v, expires: now.Add(c.ttl), seq: c.seq}
	c.order = append(c.order, ttlKey[K]{key: k, seq: c.seq})
	return true
}

// remove forgets k.
func (c *ttlCache[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// empty reports whether the cache keeps nothing unexpired.
func (c *ttlCache[K, V]) empty(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if now.Before(e.expires) {
			return false
		}
	}
	return true
}

// scopedCache is one ttlCache per scope (a tenant's channel), so that
// filling one scope's cache drops none of another's entries.
type scopedCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu     sync.Mutex
	scopes map[string]*ttlCache[K, V]
}

func newScopedCache[K comparable, V any](ttl time.Duration, maxPerScope int) *scopedCache[K, V] {
	return &scopedCache[K, V]{ttl: ttl, max: maxPerScope, scopes: map[string]*ttlCache[K, V]{}}
}

// scope is the cache of scope s. A new scope first drops the scopes that
// keep nothing: scopes are made only for callers that proved who they are,
// so their number follows the channels that exist.
func (c *scopedCache[K, V]) scope(now time.Time, s string) *ttlCache[K, V] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc, ok := c.scopes[s]; ok {
		return sc
	}
	for name, sc := range c.scopes {
		if sc.empty(now) {
			delete(c.scopes, name)
		}
	}
	sc := newTTLCache[K, V](c.ttl, c.max)
	c.scopes[s] = sc
	return sc
}
