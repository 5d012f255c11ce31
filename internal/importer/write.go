package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// marker is the file that says a directory was written by an import, so
// that an import may replace it and nothing else.
const marker = ".klaxon-import"

// Write puts each object of r into dir as its own YAML file, grouped by
// kind: dir/oncallschedules/payments-primary.yaml. It writes a new
// directory beside dir and moves it into place, so dir is either the
// previous import or this one, never half of it. It refuses a dir that
// exists and was not written by an import.
func Write(dir string, r *Result) error {
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	for _, obj := range r.Objects {
		if err := Check(obj); err != nil {
			return err
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+"-")
	if err != nil {
		return fmt.Errorf("creating a directory beside %s: %w", dir, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	// MkdirTemp makes it private; the import is for git and review.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("creating a directory beside %s: %w", dir, err)
	}
	written := map[string]bool{}
	if err := os.WriteFile(filepath.Join(tmp, marker), []byte("Written by kubectl klaxon import "+r.Source+"; the next import replaces this directory.\n"), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", marker, err)
	}
	for _, obj := range r.Objects {
		// The name becomes a file name: one that is no Kubernetes name
		// (a source's bug) must not reach the file system.
		if errs := validation.IsDNS1123Subdomain(obj.GetName()); len(errs) > 0 {
			return fmt.Errorf("%s %q is no Kubernetes name: %s", KindOf(obj), obj.GetName(), strings.Join(errs, "; "))
		}
		key := KindOf(obj) + "/" + obj.GetName()
		if written[key] {
			// A source that named two objects alike would lose one.
			return fmt.Errorf("two %ss are named %s", KindOf(obj), obj.GetName())
		}
		written[key] = true
		data, err := Marshal(obj)
		if err != nil {
			return err
		}
		sub := filepath.Join(tmp, Plural(KindOf(obj)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", sub, err)
		}
		name := filepath.Join(sub, obj.GetName()+".yaml")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	// Swap: the old import moves aside, the new one into place, and the
	// old one goes.
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("moving the previous import aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fmt.Errorf("moving the import into %s: %w", dir, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing the previous import: %w", err)
		}
	}
	return nil
}

// Plural is the resource name of a kind, which names its directory:
// escalationpolicies for EscalationPolicy.
func Plural(kind string) string {
	lower := strings.ToLower(kind)
	if strings.HasSuffix(lower, "y") {
		return strings.TrimSuffix(lower, "y") + "ies"
	}
	return lower + "s"
}

// replaceable says whether dir may be written: it does not exist, is
// empty, or holds an earlier import.
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		return fmt.Errorf("%s holds files that no import wrote: give --out a new or empty directory", dir)
	}
	return nil
}

// Marshal returns obj as the YAML a user applies: apiVersion, kind,
// metadata (name, annotations) and spec, without status or empty fields
// the API server sets.
func Marshal(obj client.Object) ([]byte, error) {
	data, err := yaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", KindOf(obj), obj.GetName(), err)
	}
	var m map[string]any
	if err = yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", KindOf(obj), obj.GetName(), err)
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	m["apiVersion"] = klaxonv1alpha1.GroupVersion.String()
	m["kind"] = KindOf(obj)
	out, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", KindOf(obj), obj.GetName(), err)
	}
	return out, nil
}
