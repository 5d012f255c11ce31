// Package secretref reads one value of a Secret marked as channel
// credentials (klaxonv1alpha1.LabelChannelSecret). The operator reads them
// to send through NotificationChannels and the receiver to verify what
// those channels' services send back, so both apply the same rule: an
// unmarked Secret is never read for its values, and a value that is empty,
// or only whitespace, is as good as missing.
package secretref

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Why a Secret that was read yields no value. Read wraps them in sentences
// that name the Secret and the key.
var (
	ErrNotMarked = errors.New("lacks the label " + klaxonv1alpha1.LabelChannelSecret + "=true")
	ErrEmpty     = errors.New("has no value, or only whitespace, under key")
)

// Getter reads one object; a client.Reader is one.
type Getter interface {
	Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error
}

// Read returns the value under key of the Secret named secret, read
// through r. trim drops surrounding whitespace, which is never part of a
// token or password (YAML, whose whitespace is its structure, is read
// untrimmed). A failed read is returned wrapped, so apierrors.IsNotFound
// and apierrors.IsForbidden still tell those apart; a Secret without the
// mark wraps ErrNotMarked, and a missing or blank value ErrEmpty.
func Read(ctx context.Context, r Getter, secret client.ObjectKey, key string, trim bool) ([]byte, error) {
	s := &corev1.Secret{}
	if err := r.Get(ctx, secret, s); err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", secret, err)
	}
	if s.Labels[klaxonv1alpha1.LabelChannelSecret] != "true" {
		return nil, fmt.Errorf("the Secret %s %w", secret, ErrNotMarked)
	}
	value := s.Data[key]
	if trim {
		value = bytes.TrimSpace(value)
	}
	if len(bytes.TrimSpace(value)) == 0 {
		return nil, fmt.Errorf("the Secret %s %w %q", secret, ErrEmpty, key)
	}
	return value, nil
}
