package receiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/secretref"
)

// TokenSecretLabel (set to "true") marks a Secret as a receiver token. The
// operator uses no other Secret as a token: without the mark, anyone who can
// write an AlertRoute could point it at any Secret of the namespace (a
// database password, say) and learn from the route's status whether it
// exists, or from the receiver's answers whether a guess matches it.
const TokenSecretLabel = "klaxon.dev/receiver-token"

// How long a Secret read from the API server is trusted. The operator has no
// Secret informer (that would need the right to read every Secret in the
// cluster), so tokens are read with GETs and remembered briefly; a token
// that does not match is read again at once, so a rotated token works from
// the first notification that carries it.
const (
	tokenTTL         = 30 * time.Second
	tokenMissingTTL  = 5 * time.Second
	tokenRefreshWait = 250 * time.Millisecond
	// maxCachedTokens bounds the cache; entries are only ever made for the
	// Secrets that existing AlertRoutes name, so this is a safety net.
	maxCachedTokens = 4096
	// routeTokenMemory is how long a route token's digest, kept for the
	// fallback's count (lastKnownMatches), outlives its last successful
	// read: a token rotated or deleted during a long outage stops counting.
	routeTokenMemory = 24 * time.Hour
)

// StoredToken is the token kept under key in secret, with surrounding
// whitespace removed: a Secret made with `kubectl create secret
// --from-file` keeps the file's trailing newline, which Alertmanager does
// not send. nil means there is no usable token, also when the Secret lacks
// the TokenSecretLabel mark.
func StoredToken(secret *corev1.Secret, key string) []byte {
	if !IsTokenSecret(secret) {
		return nil
	}
	t := bytes.TrimSpace(secret.Data[key])
	if len(t) == 0 {
		return nil
	}
	return t
}

// IsTokenSecret reports whether the Secret is marked as a receiver token.
func IsTokenSecret(secret *corev1.Secret) bool {
	return secret.Labels[TokenSecretLabel] == "true"
}

// tokenCache reads Secrets through an uncached reader and keeps each for a
// short while, so a storm of notifications costs one GET per Secret per
// tokenTTL. Route tokens and the channel credentials that verify Slack's
// requests are read through it alike.
type tokenCache struct {
	reader client.Reader
	clock  clock.PassiveClock

	mu      sync.Mutex
	entries map[client.ObjectKey]tokenEntry
	// last holds, per Secret and key, the digest of each route token as
	// last read, past its TTL: while the API server cannot be reached it
	// tells a known sender from anyone else, for the fallback's count only
	// (lastKnownMatches), never for a write. Channel credentials are never
	// kept here, nor any Secret's bytes.
	last map[client.ObjectKey]map[string]lastToken
}

type tokenEntry struct {
	secret *corev1.Secret
	err    error
	readAt time.Time
}

// lastToken is a route token's digest and when it was last read.
type lastToken struct {
	sum    [sha256.Size]byte
	readAt time.Time
}

func newTokenCache(reader client.Reader, clk clock.PassiveClock) *tokenCache {
	return &tokenCache{reader: reader, clock: clk, entries: map[client.ObjectKey]tokenEntry{}, last: map[client.ObjectKey]map[string]lastToken{}}
}

// get returns the Secret, read now or within its TTL. A NotFound or
// Forbidden answer is remembered too, for tokenMissingTTL, so a route with
// a missing Secret does not turn each retry into an API request.
func (c *tokenCache) get(ctx context.Context, key client.ObjectKey) (*corev1.Secret, error) {
	now := c.clock.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Sub(e.readAt) < e.ttl() {
		return e.secret, e.err
	}
	return c.read(ctx, key)
}

// refresh rereads the Secret unless it was read within tokenRefreshWait,
// and reports whether it did: a token that did not match may have just
// been rotated.
func (c *tokenCache) refresh(ctx context.Context, key client.ObjectKey) (*corev1.Secret, bool, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.clock.Since(e.readAt) < tokenRefreshWait {
		return e.secret, false, e.err
	}
	s, err := c.read(ctx, key)
	return s, true, err
}

func (c *tokenCache) read(ctx context.Context, key client.ObjectKey) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := c.reader.Get(ctx, key, secret)
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
		// A failing API server is not remembered: the next request tries
		// again. The callers say which Secret they read.
		return nil, err
	}
	e := tokenEntry{readAt: c.clock.Now(), err: err}
	if err == nil {
		e.secret = secret
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedTokens {
		c.evictExpiredLocked(e.readAt)
	}
	c.entries[key] = e
	if e.secret == nil {
		// The Secret is gone or may not be read: it vouches for no one.
		delete(c.last, key)
	}
	c.mu.Unlock()
	return e.secret, e.err
}

// keepRouteToken keeps the digest of the route token under field of the
// Secret key, as read into the cache (by get or refresh), with the time
// it was read; a Secret without a usable token there drops it.
func (c *tokenCache) keepRouteToken(key client.ObjectKey, field string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.secret == nil {
		return
	}
	token := StoredToken(e.secret, field)
	if token == nil {
		delete(c.last[key], field)
		return
	}
	fields, ok := c.last[key]
	if !ok {
		if len(c.last) >= maxCachedTokens {
			c.forgetOldLocked(c.clock.Now())
		}
		fields = map[string]lastToken{}
		c.last[key] = fields
	}
	fields[field] = lastToken{sum: sha256.Sum256(token), readAt: e.readAt}
}

// lastKnownMatches reports whether bearer is the route token under field
// of the Secret key as last read, within routeTokenMemory.
func (c *tokenCache) lastKnownMatches(key client.ObjectKey, field string, bearer []byte) bool {
	c.mu.Lock()
	t, ok := c.last[key][field]
	c.mu.Unlock()
	if !ok || c.clock.Since(t.readAt) >= routeTokenMemory {
		return false
	}
	got := sha256.Sum256(bearer)
	return subtle.ConstantTimeCompare(got[:], t.sum[:]) == 1
}

// forgetOldLocked drops the digests past routeTokenMemory, and all of
// them if that leaves the map full.
func (c *tokenCache) forgetOldLocked(now time.Time) {
	for key, fields := range c.last {
		for f, t := range fields {
			if now.Sub(t.readAt) >= routeTokenMemory {
				delete(fields, f)
			}
		}
		if len(fields) == 0 {
			delete(c.last, key)
		}
	}
	if len(c.last) >= maxCachedTokens {
		clear(c.last)
	}
}

func (c *tokenCache) evictExpiredLocked(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.readAt) >= e.ttl() {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
}

func (e tokenEntry) ttl() time.Duration {
	if e.err != nil {
		return tokenMissingTTL
	}
	return tokenTTL
}

// cachedSecrets reads Secrets through the cache for secretref.Read, or
// again now with refresh.
type cachedSecrets struct {
	cache   *tokenCache
	refresh bool
}

func (c cachedSecrets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	out, ok := obj.(*corev1.Secret)
	if !ok {
		return fmt.Errorf("the token cache holds Secrets, not %T", obj)
	}
	var secret *corev1.Secret
	var err error
	if c.refresh {
		secret, _, err = c.cache.refresh(ctx, key)
	} else {
		secret, err = c.cache.get(ctx, key)
	}
	if err != nil {
		return err
	}
	// The cached Secret is shared: the caller gets a copy.
	secret.DeepCopyInto(out)
	return nil
}

// apiTrouble is a failure to reach the API server, worth a retry.
type apiTrouble struct{ error }

func (e apiTrouble) Unwrap() error { return e.error }

// channelSecret is the value under key of a NotificationChannel's Secret,
// read (and kept briefly) as tokens are, or read again now with refresh,
// under the rules the operator sends by (secretref.Read); surrounding
// whitespace is dropped.
func (s *Server) channelSecret(ctx context.Context, secretKey client.ObjectKey, key string, refresh bool) ([]byte, error) {
	value, err := secretref.Read(ctx, cachedSecrets{cache: s.tokens, refresh: refresh}, secretKey, key, true)
	switch {
	case err == nil, apierrors.IsNotFound(err), apierrors.IsForbidden(err),
		errors.Is(err, secretref.ErrNotMarked), errors.Is(err, secretref.ErrEmpty):
		return value, err
	}
	return nil, apiTrouble{err}
}

// errSignatureMismatch is a request whose signature does not match the
// channel's secret, read again.
var errSignatureMismatch = errors.New("the signature does not match")

// verifyWithChannelSecret checks a request's signature, by valid, with
// the value of a channel's Secret, read again once if it does not match:
// the secret may have been rotated since it was read. nil means verified;
// an apiTrouble means the API server failed, worth a retry; any other
// error means the request cannot be verified (errSignatureMismatch, or a
// Secret that is missing, forbidden, unmarked or empty).
func (s *Server) verifyWithChannelSecret(ctx context.Context, namespace string, ref klaxonv1alpha1.SecretKeyReference, valid func(secret []byte) bool) error {
	err := s.checkChannelSecret(ctx, namespace, ref, valid, false)
	if errors.Is(err, errSignatureMismatch) {
		err = s.checkChannelSecret(ctx, namespace, ref, valid, true)
	}
	return err
}

// checkChannelSecret is verifyWithChannelSecret with one read of the
// Secret: from the receiver's cache, or when refresh from the API server.
func (s *Server) checkChannelSecret(ctx context.Context, namespace string, ref klaxonv1alpha1.SecretKeyReference, valid func(secret []byte) bool, refresh bool) error {
	secret, err := s.channelSecret(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, ref.Key, refresh)
	if err == nil && !valid(secret) {
		err = errSignatureMismatch
	}
	return err
}
