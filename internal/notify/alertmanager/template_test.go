package alertmanager

import (
	"fmt"
	"strings"
	"testing"

	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// TestDataBounds keeps pageAlert and the template check's
// bounds in step.
func TestDataBounds(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, err = externalURL("https://" + strings.Repeat("e", maxExternalURLBytes-len("https://")))
	if err != nil {
		t.Fatal(err)
	}
	m := maxMessage()
	alert := pageAlert(m, m.SentAt)
	data := tmpl.Data(receiverName, model.LabelSet{"namespace": alert.Labels["namespace"], "incident": alert.Labels["incident"]}, alert)
	if n := len(fmt.Sprint(data)); n > tmplbudget.DataBound {
		t.Errorf("the data prints as %d bytes, more than tmplbudget.DataBound", n)
	}
	if len(data.Alerts) > tmplbudget.StaticAlerts {
		t.Errorf("%d alerts", len(data.Alerts))
	}
	for _, kv := range []amtemplate.KV{data.GroupLabels, data.CommonLabels, data.CommonAnnotations, data.Alerts[0].Labels, data.Alerts[0].Annotations} {
		if len(kv) > tmplbudget.StaticPairs {
			t.Errorf("%d pairs, more than tmplbudget.StaticPairs", len(kv))
		}
		for k, v := range kv {
			if len(k) > tmplbudget.LeafBound || len(v) > tmplbudget.LeafBound {
				t.Errorf("%s is %d bytes, more than tmplbudget.LeafBound", k, len(v))
			}
		}
	}
	for _, s := range []string{data.ExternalURL, data.Alerts[0].GeneratorURL, data.Receiver, data.Status} {
		if len(s) > tmplbudget.LeafBound {
			t.Errorf("a string of %d bytes, more than tmplbudget.LeafBound", len(s))
		}
	}
	if key := groupKey(m); len(key) > 2048 {
		t.Errorf("the group key is %d bytes", len(key))
	}
}

// TestTemplateBounds runs templates the check accepts over the
// largest data a page can make: their output stays within the bound.
func TestTemplateBounds(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, _ = externalURL("https://" + strings.Repeat("e", 2000))
	m := maxMessage()
	alert := pageAlert(m, m.SentAt)
	data := tmpl.Data(receiverName, model.LabelSet{"namespace": alert.Labels["namespace"], "incident": alert.Labels["incident"]}, alert)

	texts := []string{
		`{{ range .Alerts }}{{ .Annotations.summary }}: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}{{ end }}`,
		`{{ $x := .CommonLabels.severity }}{{ if eq $x "SEV1" }}!{{ else }}{{ $x }}{{ end }} {{ .CommonAnnotations.summary | toUpper }}`,
		`{{ range $i, $a := .Alerts.Firing }}{{ $i }} {{ $a.Labels.incident }} {{ $a.StartsAt.Format "2006-01-02 15:04" }}{{ end }}`,
		`{{ printf "%s (%s) %q %x" .CommonAnnotations.summary .CommonLabels.severity .CommonLabels.level .CommonLabels.incident }}`,
		`{{ reReplaceAll "(.)" "$1$1" .CommonLabels.incident }} {{ reReplaceAll "" "-" .CommonAnnotations.description }}`,
		`{{ join ", " (stringSlice .CommonLabels.namespace .CommonLabels.incident) }} {{ .CommonLabels.Values | join " / " }}`,
		`{{ (index .Alerts 0).Labels.severity }} {{ toJson . }} {{ . }} {{ html .CommonAnnotations.description }}`,
		`{{ range .CommonLabels }}{{ range $.Alerts }}{{ end }}{{ end }}{{ range stringSlice "a" "b" }}{{ range $.CommonLabels.Names }}{{ . }}{{ end }}{{ end }}`,
		`{{ $p := "" }}{{ range .Alerts }}{{ if .Labels.severity }}{{ $p = .Labels.severity }}{{ end }}{{ end }}{{ $p }}`,
		`{{ template "email.default.html" . }}{{ template "__text_alert_list" .Alerts.Firing }}`,
	}
	trees, err := defaultTrees()
	if err != nil {
		t.Fatal(err)
	}
	for name := range trees {
		texts = append(texts, fmt.Sprintf(`{{ template %q . }}`, name))
	}
	for i, text := range texts {
		b := &tmplbudget.Static{Defaults: trees}
		out, execErr := tmpl.ExecuteTextString(text, data)
		if err := b.Check(text); err != nil {
			// Some defaults expect another dot than the data: refusing them
			// is fine as long as they fail anyway.
			if i < len(texts)-len(trees) || execErr == nil {
				t.Errorf("%s: refused: %v", text, err)
			}
			continue
		}
		if execErr != nil {
			continue
		}
		if int64(len(out)) > b.Total() {
			t.Errorf("%s: output of %d bytes, more than the bound %d", text, len(out), b.Total())
		}
		if html, err := tmpl.ExecuteHTMLString(text, data); err == nil && int64(len(html)) > 6*b.Total() {
			t.Errorf("%s: HTML output of %d bytes, more than six times the bound %d", text, len(html), b.Total())
		}
	}
}
