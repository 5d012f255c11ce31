package tmplbudget

import (
	"container/list"
	"fmt"
	"regexp"
	"sync"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Bounds of the compiled expressions kept across renders: a title template
// runs for every alert with the same few expressions, and compiling is
// what costs (see compileCost), not matching.
const (
	maxCachedRegexps = 256
	// maxCachedCompile bounds the compile cost of what the cache holds,
	// which the memory it keeps is proportional to.
	maxCachedCompile = 16 * MaxRegexpCompile
)

// compiledRegexp is an expression CheckRegexp accepted, compiled.
type compiledRegexp struct {
	re   *regexp.Regexp
	cost RegexpCost
}

// regexpCache is a least recently used set of compiled expressions,
// bounded by count and by compile cost. Its zero value is empty and ready.
type regexpCache struct {
	mu    sync.Mutex
	order list.List // of *cachedRegexp, most recently used first
	byKey map[string]*list.Element
	cost  int
}

type cachedRegexp struct {
	pattern string
	compiledRegexp
}

// compiled is the process's cache: compiled expressions hold no state of a
// render, and regexp.Regexp is safe for concurrent use.
var compiled regexpCache

// get returns pattern compiled for fn, from the cache or compiled once
// CheckRegexp accepts it.
func (c *regexpCache) get(fn, pattern string) (compiledRegexp, error) {
	c.mu.Lock()
	if e, ok := c.byKey[pattern]; ok {
		c.order.MoveToFront(e)
		cr := e.Value.(*cachedRegexp).compiledRegexp
		c.mu.Unlock()
		return cr, nil
	}
	c.mu.Unlock()
	cost, err := CheckRegexp(fn, pattern)
	if err != nil {
		return compiledRegexp{}, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return compiledRegexp{}, fmt.Errorf("the regular expression %q of %s is invalid: %w", bounded.Runes(pattern, 40), fn, err)
	}
	cr := compiledRegexp{re: re, cost: cost}
	c.put(pattern, cr)
	return cr, nil
}

func (c *regexpCache) put(pattern string, cr compiledRegexp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[pattern]; ok {
		return
	}
	if c.byKey == nil {
		c.byKey = make(map[string]*list.Element, maxCachedRegexps)
	}
	c.byKey[pattern] = c.order.PushFront(&cachedRegexp{pattern: pattern, compiledRegexp: cr})
	c.cost += cr.cost.Compile
	for c.order.Len() > maxCachedRegexps || c.cost > maxCachedCompile {
		last := c.order.Back()
		old := last.Value.(*cachedRegexp)
		c.order.Remove(last)
		delete(c.byKey, old.pattern)
		c.cost -= old.cost.Compile
	}
}

// len returns how many expressions the cache holds and their compile cost.
func (c *regexpCache) len() (n, cost int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.cost
}
