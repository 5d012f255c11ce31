package operator

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// termCache is a leader term's view of the process's cache, which the
// serving manager started and which outlives every term. Terms share it
// rather than each filling a cache of its own, which would hold every
// incident twice. Over the shared cache a term
//   - starts nothing, and waits for its end;
//   - adds each field index once per process, whatever terms came before;
//   - removes, when it ends, the event handlers its controllers added, so
//     that the informers stop feeding the queues of terms long gone.
type termCache struct {
	cache.Cache
	// indexed is the process's set of field indexes, shared by all terms.
	indexed *indexSet

	mu       sync.Mutex
	handlers []registration
	ended    bool
}

type registration struct {
	informer cache.Informer
	handle   toolscache.ResourceEventHandlerRegistration
}

// indexSet remembers the field indexes added to the shared cache.
type indexSet struct {
	mu   sync.Mutex
	keys map[string]bool
}

// Start waits for the term's end, then removes its event handlers.
func (c *termCache) Start(ctx context.Context) error {
	<-ctx.Done()
	c.mu.Lock()
	handlers := c.handlers
	c.handlers, c.ended = nil, true
	c.mu.Unlock()
	for _, r := range handlers {
		// An informer stopped with the process has nothing to remove.
		_ = r.informer.RemoveEventHandler(r.handle)
	}
	return nil
}

// IndexField adds the index unless an earlier term did.
func (c *termCache) IndexField(ctx context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	key := fmt.Sprintf("%T/%s", obj, field)
	c.indexed.mu.Lock()
	defer c.indexed.mu.Unlock()
	if c.indexed.keys[key] {
		return nil
	}
	if err := c.Cache.IndexField(ctx, obj, field, extract); err != nil {
		return err
	}
	c.indexed.keys[key] = true
	return nil
}

// GetInformer returns the shared informer, whose handlers the term
// removes when it ends.
func (c *termCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	i, err := c.Cache.GetInformer(ctx, obj, opts...)
	if err != nil {
		return nil, err
	}
	return &termInformer{Informer: i, term: c}, nil
}

// GetInformerForKind is GetInformer by kind.
func (c *termCache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...cache.InformerGetOption) (cache.Informer, error) {
	i, err := c.Cache.GetInformerForKind(ctx, gvk, opts...)
	if err != nil {
		return nil, err
	}
	return &termInformer{Informer: i, term: c}, nil
}

// track records a handler added by the term, or removes it at once when
// the term has already ended.
func (c *termCache) track(i cache.Informer, h toolscache.ResourceEventHandlerRegistration, err error) (toolscache.ResourceEventHandlerRegistration, error) {
	if err != nil {
		return h, err
	}
	c.mu.Lock()
	ended := c.ended
	if !ended {
		c.handlers = append(c.handlers, registration{informer: i, handle: h})
	}
	c.mu.Unlock()
	if ended {
		_ = i.RemoveEventHandler(h)
	}
	return h, nil
}

// termInformer is a shared informer whose handlers belong to one term.
type termInformer struct {
	cache.Informer
	term *termCache
}

func (i *termInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	reg, err := i.Informer.AddEventHandler(h)
	return i.term.track(i.Informer, reg, err)
}

func (i *termInformer) AddEventHandlerWithResyncPeriod(h toolscache.ResourceEventHandler, resync time.Duration) (toolscache.ResourceEventHandlerRegistration, error) {
	reg, err := i.Informer.AddEventHandlerWithResyncPeriod(h, resync)
	return i.term.track(i.Informer, reg, err)
}

func (i *termInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, o toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	reg, err := i.Informer.AddEventHandlerWithOptions(h, o)
	return i.term.track(i.Informer, reg, err)
}
