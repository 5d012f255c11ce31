package operator

import (
	"context"
	"errors"
	"testing"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// informer counts the handlers it holds.
type informer struct {
	cache.Informer
	handlers map[*registered]bool
}

type registered struct {
	toolscache.ResourceEventHandlerRegistration
}

func (i *informer) AddEventHandler(toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	r := &registered{}
	i.handlers[r] = true
	return r, nil
}

func (i *informer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, _ toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.AddEventHandler(h)
}

func (i *informer) RemoveEventHandler(h toolscache.ResourceEventHandlerRegistration) error {
	r, ok := h.(*registered)
	if !ok || !i.handlers[r] {
		return errors.New("no such handler")
	}
	delete(i.handlers, r)
	return nil
}

// shared is the process's cache: one informer, and indexes that may be
// added once each, as client-go's indexers allow.
type shared struct {
	cache.Cache
	informer *informer
	indexes  map[string]int
}

func (s *shared) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return s.informer, nil
}

func (s *shared) IndexField(_ context.Context, _ client.Object, field string, _ client.IndexerFunc) error {
	if s.indexes[field] > 0 {
		return errors.New("indexer conflict: " + field)
	}
	s.indexes[field]++
	return nil
}

func TestTermsShareTheCacheAndLeaveNoHandlersBehind(t *testing.T) {
	s := &shared{informer: &informer{handlers: map[*registered]bool{}}, indexes: map[string]int{}}
	indexes := &indexSet{keys: map[string]bool{}}
	for term := 1; term <= 3; term++ {
		c := &termCache{Cache: s, indexed: indexes}
		if err := c.IndexField(context.Background(), &klaxonv1alpha1.Incident{}, "spec.escalationPolicyRef.name", nil); err != nil {
			t.Fatalf("term %d: IndexField = %v, want the index of an earlier term taken as it is", term, err)
		}
		ctx, end := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- c.Start(ctx) }()
		i, err := c.GetInformer(ctx, &klaxonv1alpha1.Incident{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := i.AddEventHandlerWithOptions(toolscache.ResourceEventHandlerFuncs{}, toolscache.HandlerOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(s.informer.handlers); n != 2 {
			t.Errorf("term %d: the informer holds %d handlers while the term runs, want its 2", term, n)
		}
		end()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := len(s.informer.handlers); n != 0 {
			t.Errorf("term %d: the informer holds %d handlers after the term ended, want none", term, n)
		}
		// A controller that registers late, as the term ends, leaves none.
		if _, err := i.AddEventHandler(toolscache.ResourceEventHandlerFuncs{}); err != nil {
			t.Fatal(err)
		}
		if n := len(s.informer.handlers); n != 0 {
			t.Errorf("term %d: a handler added after the term ended was kept", term)
		}
	}
	if n := s.indexes["spec.escalationPolicyRef.name"]; n != 1 {
		t.Errorf("the index was added %d times to the shared cache, want once", n)
	}
}
