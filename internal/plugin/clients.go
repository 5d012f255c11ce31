package plugin

import (
	"context"
	"errors"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// userAgent names the plugin in the API server's audit log.
const userAgent = "kubectl-klaxon"

// scheme holds only the kinds the plugin reads and writes, so the binary
// does not carry the operator's dependencies.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(klaxonv1alpha1.AddToScheme(s))
	utilruntime.Must(authenticationv1.AddToScheme(s))
	utilruntime.Must(corev1.AddToScheme(s))
	return s
}()

// clients turns the kubeconfig flags (or a REST config given by the
// embedding program) into an API client and a namespace.
type clients struct {
	flags *genericclioptions.ConfigFlags
	// config replaces the flags' connection settings when set.
	config *rest.Config
}

func (s *clients) restConfig() (*rest.Config, error) {
	if s.config != nil {
		return rest.CopyConfig(s.config), nil
	}
	cfg, err := s.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.UserAgent = userAgent
	return cfg, nil
}

// namespace returns the namespace to work in: -n, else the kubeconfig
// context's, else "default" (always "default" under a given REST config).
func (s *clients) namespace() (string, error) {
	if s.flags.Namespace != nil && *s.flags.Namespace != "" {
		return *s.flags.Namespace, nil
	}
	if s.config != nil {
		return metav1.NamespaceDefault, nil
	}
	ns, _, err := s.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

func (s *clients) client() (client.Client, error) {
	cfg, err := s.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server at %s: %w", cfg.Host, err)
	}
	return c, nil
}

// whoAmI asks the API server who the credentials authenticate as: the same
// user name the admission policy records as the actor of a move.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview, authentication.k8s.io/v1, served since Kubernetes 1.28): %w", err)
	}
	name := review.Status.UserInfo.Username
	if name == "" {
		return "", errors.New("the API server's SelfSubjectReview names no user: the credentials are anonymous; log in with credentials of your own")
	}
	return name, nil
}

// listIncidents lists the incidents of the current namespace (returned as
// ns), or of every namespace.
func (c *command) listIncidents(ctx context.Context, allNamespaces bool) (list *klaxonv1alpha1.IncidentList, ns string, err error) {
	k8s, err := c.clients.client()
	if err != nil {
		return nil, "", err
	}
	if ns, err = c.clients.namespace(); err != nil {
		return nil, "", err
	}
	var opts []client.ListOption
	if !allNamespaces {
		opts = append(opts, client.InNamespace(ns))
	}
	list = &klaxonv1alpha1.IncidentList{}
	if err = k8s.List(ctx, list, opts...); err != nil {
		return nil, "", explainListError(err, allNamespaces)
	}
	return list, ns, nil
}
