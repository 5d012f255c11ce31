package controller

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// catchUpEvery is how often, while the watches may be behind, the leader
// lists the incidents from the API server.
const catchUpEvery = 2 * time.Second

// catchUpPage bounds one list request.
const catchUpPage = 500

// catchUp relays, while the cache's watches may be behind (a watch failed
// within relayFresh), the incidents the API server holds and the cache
// lacks or holds at another version: those that other replicas' receivers
// (and people) wrote after an outage, which this replica's receiver never
// relayed and its watch brings only after client-go's back-off. It runs on
// the leader, beside the incident controller whose queue the Relay feeds;
// with healthy watches it lists nothing.
type catchUp struct {
	relay *Relay
	// api reads from the API server, cache from the cache.
	api, cache client.Reader
}

// NeedLeaderElection is true: only the leader reconciles what it relays.
func (c *catchUp) NeedLeaderElection() bool { return true }

// Start lists every catchUpEvery while the watches may be behind.
func (c *catchUp) Start(ctx context.Context) error {
	t := time.NewTicker(catchUpEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !c.relay.watchesBehind() {
			continue
		}
		if n, err := c.once(ctx); err != nil {
			log.FromContext(ctx).Info("Could not list the incidents to catch up with the API server; trying again", "error", err.Error())
		} else if n > 0 {
			log.FromContext(ctx).Info("Relayed incidents the cache is behind on", "incidents", n)
		}
	}
}

// once relays the incidents whose version the cache does not hold, and
// says how many.
func (c *catchUp) once(ctx context.Context) (int, error) {
	cached := &klaxonv1alpha1.IncidentList{}
	// Read only: the cache's objects need no copies.
	if err := c.cache.List(ctx, cached, client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	versions := make(map[types.NamespacedName]string, len(cached.Items))
	for i := range cached.Items {
		versions[client.ObjectKeyFromObject(&cached.Items[i])] = cached.Items[i].ResourceVersion
	}
	relayed := 0
	for _, ns := range c.relay.scopes() {
		cont := ""
		for {
			page := &klaxonv1alpha1.IncidentList{}
			opts := []client.ListOption{client.Limit(catchUpPage), client.Continue(cont)}
			if ns != "" {
				opts = append(opts, client.InNamespace(ns))
			}
			if err := c.api.List(ctx, page, opts...); err != nil {
				return relayed, err
			}
			for i := range page.Items {
				key := client.ObjectKeyFromObject(&page.Items[i])
				if versions[key] != page.Items[i].ResourceVersion {
					c.relay.Enqueue(key)
					relayed++
				}
			}
			if cont = page.Continue; cont == "" {
				break
			}
		}
	}
	return relayed, nil
}
