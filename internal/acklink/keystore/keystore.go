// Package keystore keeps the acknowledge-link key in a Secret of the
// operator's namespace, creating it when missing, and loads it into an
// acklink.Keyring on every replica.
package keystore

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// The Secret holding the key. The operator's Role (config/rbac/
// ack_key_role.yaml) may get this Secret only, and create Secrets.
const (
	SecretName = "klaxon-ack-key"
	SecretKey  = "key"
	// KeyLength is the length of a key the operator makes.
	KeyLength = 32
)

// DefaultNamespace is where the Secret is kept when POD_NAMESPACE is unset.
const DefaultNamespace = "klaxon-system"

// How often the key is read again once loaded: deleting the Secret revokes
// every link, and replicas converge on the new key within this interval.
// Failed loads are retried sooner, with backoff.
const (
	refreshInterval = 10 * time.Minute
	minRetry        = time.Second
	maxRetry        = time.Minute
)

// Load reads the key from the Secret, creating the Secret with a random key
// when it is missing. When another replica creates it first, the Secret is
// read again, so every replica uses the same key. c writes; reader reads
// from the API server (the operator never caches Secrets).
func Load(ctx context.Context, c client.Writer, reader client.Reader, namespace string, random io.Reader) (*acklink.Signer, error) {
	key := client.ObjectKey{Namespace: namespace, Name: SecretName}
	secret := &corev1.Secret{}
	err := reader.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		created, cerr := create(ctx, c, key, random)
		if cerr == nil {
			return signerOf(created)
		}
		if !apierrors.IsAlreadyExists(cerr) {
			return nil, cerr
		}
		err = reader.Get(ctx, key, secret)
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	return signerOf(secret)
}

func create(ctx context.Context, c client.Writer, key client.ObjectKey, random io.Reader) (*corev1.Secret, error) {
	b := make([]byte, KeyLength)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, fmt.Errorf("making an acknowledge link key: %w", err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{"app.kubernetes.io/name": "klaxon"}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{SecretKey: b},
	}
	if err := c.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("creating Secret %s: %w", key, err)
	}
	return secret, nil
}

func signerOf(secret *corev1.Secret) (*acklink.Signer, error) {
	s, err := acklink.NewSigner(secret.Data[SecretKey])
	if err != nil {
		return nil, fmt.Errorf("key %q of Secret %s/%s: %w; delete the Secret and the operator makes a new key",
			SecretKey, secret.Namespace, secret.Name, err)
	}
	return s, nil
}

// Loader is a manager runnable that loads the key into Keys, retrying until
// it succeeds, then reads it again every refreshInterval. It runs on every
// replica: each serves links.
type Loader struct {
	Client    client.Writer
	Reader    client.Reader
	Namespace string
	Keys      *acklink.Keyring
	Log       logr.Logger
	// Random is the source of new keys; nil means crypto/rand.
	Random io.Reader
}

// NeedLeaderElection is false: every replica verifies links.
func (l *Loader) NeedLeaderElection() bool { return false }

// Start loads the key and keeps it fresh until ctx ends. A key that cannot
// be loaded is logged and retried, never fatal: pages go out without
// acknowledge links meanwhile.
func (l *Loader) Start(ctx context.Context) error {
	random := l.Random
	if random == nil {
		random = rand.Reader
	}
	retry := minRetry
	for {
		wait := refreshInterval
		s, err := Load(ctx, l.Client, l.Reader, l.Namespace, random)
		switch {
		case err == nil:
			if old, ok := l.Keys.Signer(); !ok || !old.Equal(s) {
				l.Log.Info("Loaded the acknowledge link key", "secret", klog.KRef(l.Namespace, SecretName))
				l.Keys.Set(s)
			}
			retry = minRetry
		case ctx.Err() != nil:
			// Stopping: a load cut short is no failure; the select below
			// returns.
		default:
			l.Log.Error(err, "Cannot load the acknowledge link key; pages carry no acknowledge links until it loads",
				"secret", klog.KRef(l.Namespace, SecretName), "retryIn", retry)
			wait, retry = retry, min(2*retry, maxRetry)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
