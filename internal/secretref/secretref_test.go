package secretref_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/secretref"
)

// stored answers every Get with one Secret, or with err.
type stored struct {
	secret *corev1.Secret
	err    error
}

func (s stored) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if s.err != nil {
		return s.err
	}
	s.secret.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

func secret(marked bool, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "team"}, Data: map[string][]byte{}}
	if marked {
		s.Labels = map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}
	}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestRead(t *testing.T) {
	secrets := schema.GroupResource{Resource: "secrets"}
	tests := map[string]struct {
		from stored
		trim bool
		// want is the value; when it is empty, is says which error.
		want string
		is   func(error) bool
	}{
		"trimmed":   {from: stored{secret: secret(true, map[string]string{"token": " s3cret\n"})}, trim: true, want: "s3cret"},
		"as stored": {from: stored{secret: secret(true, map[string]string{"token": "a: b\n"})}, want: "a: b\n"},
		"not marked": {from: stored{secret: secret(false, map[string]string{"token": "s3cret"})}, trim: true,
			is: func(err error) bool { return errors.Is(err, secretref.ErrNotMarked) }},
		"marked false": {from: stored{secret: func() *corev1.Secret {
			s := secret(true, map[string]string{"token": "s3cret"})
			s.Labels[klaxonv1alpha1.LabelChannelSecret] = "false"
			return s
		}()}, is: func(err error) bool { return errors.Is(err, secretref.ErrNotMarked) }},
		"no such key": {from: stored{secret: secret(true, map[string]string{"other": "s3cret"})}, trim: true,
			is: func(err error) bool { return errors.Is(err, secretref.ErrEmpty) }},
		"blank, trimmed": {from: stored{secret: secret(true, map[string]string{"token": " \n"})}, trim: true,
			is: func(err error) bool { return errors.Is(err, secretref.ErrEmpty) }},
		"blank, untrimmed": {from: stored{secret: secret(true, map[string]string{"token": "\t\n"})},
			is: func(err error) bool { return errors.Is(err, secretref.ErrEmpty) }},
		"not found":   {from: stored{err: apierrors.NewNotFound(secrets, "creds")}, is: apierrors.IsNotFound},
		"forbidden":   {from: stored{err: apierrors.NewForbidden(secrets, "creds", errors.New("no RoleBinding"))}, is: apierrors.IsForbidden},
		"API failure": {from: stored{err: apierrors.NewServiceUnavailable("etcd is down")}, is: apierrors.IsServiceUnavailable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := secretref.Read(context.Background(), tc.from, client.ObjectKey{Namespace: "team", Name: "creds"}, "token", tc.trim)
			if tc.is == nil {
				if err != nil || string(got) != tc.want {
					t.Fatalf("Read = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if got != nil || !tc.is(err) {
				t.Fatalf("Read = %q, %v; want no value and the %s error", got, err, name)
			}
		})
	}
}

func TestReadErrorsNameTheSecret(t *testing.T) {
	_, err := secretref.Read(context.Background(), stored{secret: secret(false, nil)}, client.ObjectKey{Namespace: "team", Name: "creds"}, "token", true)
	if want := "the Secret team/creds lacks the label " + klaxonv1alpha1.LabelChannelSecret + "=true"; err == nil || err.Error() != want {
		t.Fatalf("err = %v; want %q", err, want)
	}
	_, err = secretref.Read(context.Background(), stored{secret: secret(true, nil)}, client.ObjectKey{Namespace: "team", Name: "creds"}, "token", true)
	if want := `the Secret team/creds has no value, or only whitespace, under key "token"`; err == nil || err.Error() != want {
		t.Fatalf("err = %v; want %q", err, want)
	}
}
