package install

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fallbackMount is what a rendered manager Deployment says of the fallback
// page: its flags, and the Secret mounted for it.
type fallbackMount struct {
	flags              []string
	mountPath          string
	readOnly, optional bool
	secret, key, path  string
}

func fallbackOf(t *testing.T, objs []*unstructured.Unstructured) fallbackMount {
	t.Helper()
	var m fallbackMount
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			c := c.(map[string]any)
			args, _, _ := unstructured.NestedStringSlice(c, "args")
			for _, a := range args {
				if strings.HasPrefix(a, "--fallback-") {
					m.flags = append(m.flags, a)
				}
			}
			mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
			for _, vm := range mounts {
				vm := vm.(map[string]any)
				if vm["name"] == "fallback" {
					m.mountPath, _ = vm["mountPath"].(string)
					m.readOnly, _ = vm["readOnly"].(bool)
				}
			}
		}
		volumes, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
		for _, v := range volumes {
			v := v.(map[string]any)
			if v["name"] != "fallback" {
				continue
			}
			m.secret, _, _ = unstructured.NestedString(v, "secret", "secretName")
			m.optional, _, _ = unstructured.NestedBool(v, "secret", "optional")
			items, _, _ := unstructured.NestedSlice(v, "secret", "items")
			if len(items) == 1 {
				item := items[0].(map[string]any)
				m.key, _ = item["key"].(string)
				m.path, _ = item["path"].(string)
			}
		}
	}
	slices.Sort(m.flags)
	return m
}

// The fallback page is off in both installs by default, and on, each
// mounts the Secret read-only where --fallback-receiver-file reads it, and
// a missing Secret does not keep the manager from starting.
func TestFallbackPageInstalls(t *testing.T) {
	for name, m := range map[string]fallbackMount{
		"the chart":             fallbackOf(t, renderChart(t, "klaxon", "klaxon-system")),
		"the kustomize install": fallbackOf(t, renderKustomize(t)),
	} {
		if len(m.flags) > 0 || m.secret != "" || m.mountPath != "" {
			t.Errorf("%s has the fallback page on by default: %+v", name, m)
		}
	}
	want := fallbackMount{
		flags:     []string{"--fallback-after=1m", "--fallback-receiver-file=/etc/klaxon/fallback/receiver.yaml", "--fallback-repeat=15m"},
		mountPath: "/etc/klaxon/fallback", readOnly: true, optional: true,
		secret: "klaxon-fallback", key: "receiver.yaml", path: "receiver.yaml",
	}
	for name, m := range map[string]fallbackMount{
		"the chart with fallback.secretName": fallbackOf(t, renderChart(t, "klaxon", "klaxon-system", "fallback.secretName=klaxon-fallback")),
		"config/fallback on config/default":  fallbackOf(t, render(t, tool(t, "KLAXON_KUSTOMIZE"), "build", "test/install/testdata/fallback")),
	} {
		if !slices.Equal(m.flags, want.flags) || m.mountPath != want.mountPath || m.readOnly != want.readOnly || m.optional != want.optional ||
			m.secret != want.secret || m.key != want.key || m.path != want.path {
			t.Errorf("%s renders the fallback page as\n%+v, want\n%+v", name, m, want)
		}
	}
	chart := fallbackOf(t, renderChart(t, "klaxon", "klaxon-system",
		"fallback.secretName=pager", "fallback.key=block.yaml", "fallback.after=30s", "fallback.repeat=1h"))
	if want := []string{"--fallback-after=30s", "--fallback-receiver-file=/etc/klaxon/fallback/block.yaml", "--fallback-repeat=1h"}; !slices.Equal(chart.flags, want) ||
		chart.secret != "pager" || chart.key != "block.yaml" {
		t.Errorf("the chart's fallback values render as %+v, want flags %v from Secret pager's key block.yaml", chart, want)
	}
}

// With the chart's egress NetworkPolicy, the fallback page lets replicas
// reach each other's receiver, where they hand over their waiting groups.
func TestFallbackPageEgressReachesTheOtherReplicas(t *testing.T) {
	peerRule := func(objs []*unstructured.Unstructured) bool {
		for _, obj := range objs {
			if obj.GetKind() != "NetworkPolicy" {
				continue
			}
			rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "egress")
			for _, r := range rules {
				to, _, _ := unstructured.NestedSlice(r.(map[string]any), "to")
				ports, _, _ := unstructured.NestedSlice(r.(map[string]any), "ports")
				for _, peer := range to {
					labels, ok, _ := unstructured.NestedStringMap(peer.(map[string]any), "podSelector", "matchLabels")
					if ok && labels["control-plane"] == "controller-manager" && len(ports) == 1 &&
						fmt.Sprint(ports[0].(map[string]any)["port"]) == "9095" {
						return true
					}
				}
			}
		}
		return false
	}
	if peerRule(renderChart(t, "klaxon", "klaxon-system", "networkPolicy.egress.enabled=true")) {
		t.Error("the egress policy lets replicas reach each other's receiver without the fallback page")
	}
	if !peerRule(renderChart(t, "klaxon", "klaxon-system", "networkPolicy.egress.enabled=true", "fallback.secretName=klaxon-fallback")) {
		t.Error("with the fallback page on, the egress policy does not let replicas reach each other's receiver on 9095")
	}
}
