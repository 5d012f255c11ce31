package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Klaxon kind.
	GroupVersion = schema.GroupVersion{Group: "klaxon.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Klaxon kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Klaxon kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
