package operator

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestKinds(t *testing.T) {
	kinds := Kinds()
	for _, want := range []string{"Incident", "AlertRoute", "NotificationChannel", "OnCallSchedule", "Responder"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("Kinds() = %v lacks %s", kinds, want)
		}
	}
	for _, k := range kinds {
		if k == "IncidentList" || k == "ListOptions" || k == "WatchEvent" {
			t.Errorf("Kinds() = %v holds %s, which is not a kind of object", kinds, k)
		}
	}
}

func TestMissingKinds(t *testing.T) {
	served := &metav1.APIResourceList{APIResources: []metav1.APIResource{
		{Name: "incidents", Kind: "Incident"},
		{Name: "incidents/status", Kind: "Incident"},
		{Name: "responders/status", Kind: "Responder"},
	}}
	for _, c := range []struct {
		name   string
		served *metav1.APIResourceList
		want   []string
		got    []string
	}{
		{"all served", served, []string{"Incident"}, nil},
		{"a subresource is not its kind served", served, []string{"Incident", "Responder"}, []string{"Responder"}},
		{"nothing served yet", nil, []string{"Incident"}, []string{"Incident"}},
	} {
		if got := MissingKinds(c.served, c.want); !slices.Equal(got, c.got) {
			t.Errorf("%s: MissingKinds = %v, want %v", c.name, got, c.got)
		}
	}
}
