package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ApplyFiles server-side applies every object of the YAML files in dir, in
// file-name order; namespaced objects without a namespace go to namespace.
func ApplyFiles(ctx context.Context, c client.Client, dir, namespace string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "kustomization.yaml") {
			continue
		}
		if err := applyFile(ctx, c, f, namespace); err != nil {
			return err
		}
	}
	return nil
}

func applyFile(ctx context.Context, c client.Client, path, namespace string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if obj.GetNamespace() == "" {
			namespaced, err := c.IsObjectNamespaced(obj)
			if err != nil {
				return fmt.Errorf("looking up %s from %s: %w", obj.GetKind(), path, err)
			}
			if namespaced {
				obj.SetNamespace(namespace)
			}
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("klaxon-dev"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s from %s: %w", obj.GetKind(), obj.GetName(), path, err)
		}
	}
}

// readObject decodes the single object of a YAML file into obj.
func readObject(path string, obj any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(obj); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
