package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

const scheduleGuide = "docs/schedules-and-escalation.md"

// The schedule guide's examples, applied at the time the guide names, give
// the `kubectl get` output the guide shows: the API server's own table,
// printed as kubectl prints it, ages aside.
func TestScheduleGuideExamples(t *testing.T) {
	cases := []struct {
		snippet string
		at      string
		// resources are the plural names `kubectl get` was given.
		resources []string
	}{
		{"schedule-groups", "2026-12-08T10:00:00Z", []string{"oncallschedules"}},
		{"schedule-weekend", "2026-12-12T12:00:00Z", []string{"oncallschedules"}},
		{"schedule-end", "2026-12-14T12:00:00Z", []string{"oncallschedules"}},
		{"schedule-add", "2026-12-16T10:00:00Z", []string{"oncallschedules"}},
		{"override-cover", "2026-12-24T18:00:00Z", []string{"oncallschedules", "oncalloverrides"}},
	}
	for _, tc := range cases {
		t.Run(tc.snippet, func(t *testing.T) {
			ns := newNamespace(t)
			at, err := time.Parse(time.RFC3339, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			fakeClock.SetTime(at)
			var objs []client.Object
			if tc.snippet == "override-cover" {
				// The schedule the guide describes in words.
				objs = append(objs, &klaxonv1alpha1.OnCallSchedule{
					ObjectMeta: metav1.ObjectMeta{Name: "payments-oncall"},
					Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{{
						Name: "weekly", Participants: []string{"alice", "bob"}, Start: "2026-11-30T09:00:00",
						Shift: metav1.Duration{Duration: 168 * time.Hour},
					}}},
				})
				o := &klaxonv1alpha1.OnCallOverride{}
				decodeSnippet(t, tc.snippet, o)
				objs = append(objs, o)
			} else {
				s := &klaxonv1alpha1.OnCallSchedule{}
				decodeSnippet(t, tc.snippet, s)
				objs = append(objs, s)
			}
			for _, o := range objs {
				o.SetNamespace(ns)
				if createErr := k8s.Create(context.Background(), o); createErr != nil {
					t.Fatalf("creating %s: %v", o.GetName(), createErr)
				}
			}
			want := docsnippet.Block(t, scheduleGuide, tc.snippet+"-get")
			var got string
			err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, suite.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
				got = "$ kubectl get " + getArgs(tc.resources) + "\n" + kubectlGet(t, ns, tc.resources, ages(want))
				return got == want, nil
			})
			if err != nil {
				t.Fatalf("%s shows:\n%s\nbut the API server prints:\n%s", tc.snippet+"-get", want, got)
			}
		})
	}
}

func decodeSnippet(t *testing.T, name string, obj client.Object) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, scheduleGuide, name)), obj); err != nil {
		t.Fatalf("snippet %s: %v", name, err)
	}
}

// shortNames are what a person types for each resource.
var shortNames = map[string]string{"oncallschedules": "oncall", "oncalloverrides": "override"}

func getArgs(resources []string) string {
	var names []string
	for _, r := range resources {
		names = append(names, shortNames[r])
	}
	return strings.Join(names, ",")
}

// ages are the AGE cells of a guide's table, in order: ages change with
// every run, so the guide's stand in for the API server's.
func ages(table string) []string {
	var out []string
	for _, line := range strings.Split(table, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && fields[0] != "NAME" && fields[0] != "$" {
			out = append(out, fields[len(fields)-1])
		}
	}
	return out
}

// kubectlGet asks the API server for the tables `kubectl get` prints and
// prints them as kubectl does: the columns of priority 0, upper-case
// headers, names prefixed with the kind when several kinds are listed, a
// blank line between kinds.
func kubectlGet(t *testing.T, ns string, resources, ages []string) string {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(cluster.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, resource := range resources {
		if i > 0 {
			b.WriteString("\n")
		}
		url := fmt.Sprintf("%s/apis/klaxon.dev/v1alpha1/namespaces/%s/%s", strings.TrimRight(cluster.AdminConfig.Host, "/"), ns, resource)
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, body, err)
		}
		var table metav1.Table
		if err := json.Unmarshal(body, &table); err != nil {
			t.Fatal(err)
		}
		w := tabwriter.NewWriter(&b, 6, 4, 3, ' ', 0)
		var cols []int
		var header []string
		for c, col := range table.ColumnDefinitions {
			if col.Priority == 0 {
				cols = append(cols, c)
				header = append(header, strings.ToUpper(col.Name))
			}
		}
		_, _ = fmt.Fprintln(w, strings.Join(header, "\t"))
		for _, r := range table.Rows {
			var cells []string
			for _, c := range cols {
				cell := fmt.Sprint(r.Cells[c])
				if r.Cells[c] == nil {
					cell = "<none>"
				}
				if table.ColumnDefinitions[c].Name == "Name" && len(resources) > 1 {
					cell = strings.TrimSuffix(resource, "s") + ".klaxon.dev/" + cell
				}
				if table.ColumnDefinitions[c].Name == "Age" && len(ages) > 0 {
					cell, ages = ages[0], ages[1:]
				}
				cells = append(cells, cell)
			}
			_, _ = fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		_ = w.Flush()
	}
	return b.String()
}
