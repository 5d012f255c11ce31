package alertmapping

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// hostileTitleTemplates are templates that would take down a receiver
// without a budget, each with what CompileRoute's error must say.
var hostileTitleTemplates = map[string]struct {
	template string
	says     []string
}{
	"range over a huge number": {
		template: `{{range 1000000000}}{{end}}`,
		says:     []string{"exceeds the render budget", "{{range 1000000000}}", "line 1, column 9"},
	},
	"range over a huge number, with a declaration and nothing printed": {
		template: `{{range $i := 1000000000}}{{ $x := $i }}{{end}}`,
		says:     []string{"exceeds the render budget", "{{range $i := 1000000000}}"},
	},
	"printf doubling a string in a loop": {
		template: `{{$x := "aaaa"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}`,
		says:     []string{"assigns to $x with =", "declare a new variable"},
	},
	"range assigning to variables": {
		template: `{{$i := 0}}{{$a := 0}}{{range $i, $a = .Alerts}}{{end}}`,
		says:     []string{"assigns to $i with ="},
	},
	"printf with a huge pad": {
		template: `{{printf "%0999999999d" 1}}`,
		says:     []string{`"%0999999999d" has a width or precision over 64`, "line 1, column 3"},
	},
	"printf with a huge precision": {
		template: `{{printf "%.999999999f" 1.5}}`,
		says:     []string{"width or precision over 64"},
	},
	"printf with a width from an argument": {
		template: `{{printf "%*d" 999999999 1}}`,
		says:     []string{"takes a width or precision from an argument (*)"},
	},
	"printf with a huge pad through a variable": {
		template: `{{$f := "%0999999999d"}}{{printf $f 1}}`,
		says:     []string{"exceeds the render budget", "width or precision over 64"},
	},
	"recursive define and template": {
		template: `{{define "x"}}{{template "x" .}}{{template "x" .}}{{end}}{{template "x" .}}`,
		says:     []string{"named templates", "write the text inline"},
	},
	"block": {
		template: `{{block "x" .}}{{.Status}}{{end}}`,
		says:     []string{"named templates"},
	},
	"define alone": {
		template: `{{define "x"}}{{end}}{{.Status}}`,
		says:     []string{`defines the template "x"`},
	},
	"range over a variable": {
		template: `{{$n := 1000000000}}{{range $n}}{{end}}`,
		says:     []string{"{{range $n}}", "can range only over a field of the notification", ".Alerts.Firing"},
	},
	"range over a function's result": {
		template: `{{range stringSlice "a" "b"}}{{.}}{{end}}`,
		says:     []string{"can range only over a field"},
	},
	"range over a pipeline": {
		template: `{{range .Alerts | len}}{{end}}`,
		says:     []string{"can range only over a field"},
	},
	"ranges nested three deep": {
		template: `{{range .Alerts}}{{range .Labels}}{{range $.Alerts}}{{end}}{{end}}{{end}}`,
		says:     []string{"nests {{range $.Alerts}}", "3 ranges deep", "at most 2"},
	},
	"nested ranges over the alerts doing linear work": {
		template: `{{range .Alerts}}{{range $.Alerts}}{{$f := $.Alerts.Firing}}{{$p := .Labels.SortedPairs}}{{end}}{{end}}`,
		says:     []string{"exceeds the render budget", "{{range $.Alerts}}", "ran past the budget of 10000 steps"},
	},
	"range over the truncated count": {
		template: `{{range .TruncatedAlerts}}{{end}}`,
		says:     []string{"exceeds the render budget", "{{range .TruncatedAlerts}}"},
	},
	"call": {
		template: `{{call .Status}}`,
		says:     []string{"uses call"},
	},
	"everything as JSON": {
		template: `{{toJson .}}`,
		says:     []string{"exceeds the render budget", "argument 1 of toJson prints as more than 4096 bytes"},
	},
	"printf of everything": {
		template: `{{printf "%v" .Alerts}}`,
		says:     []string{"exceeds the render budget", "argument 1 of printf"},
	},
	"regular expression that expands": {
		template: `{{reReplaceAll "a{1000}b{1000}" "" .Status}}`,
		says:     []string{"too complex"},
	},
	"regular expression costly to compile": {
		template: `{{match "` + unicodeClasses + `" .Status}}`,
		says:     []string{"too costly to compile", `\\p{L}`},
	},
	"regular expression costly to compile, through a variable": {
		template: `{{$p := "` + unicodeClasses + `"}}{{reReplaceAll $p "" .Status}}`,
		says:     []string{"exceeds the render budget", "too costly to compile"},
	},
	"regular expressions in nested loops": {
		template: `{{range .Alerts}}{{range .Labels}}{{$m := match "^[\\p{L}\\p{N}_.-]+$" .}}{{end}}{{end}}`,
		says:     []string{"exceeds the render budget", "match would be called more than 256 times in one render"},
	},
	"replacement that multiplies the text": {
		template: `{{$r := "$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0"}}{{reReplaceAll "(?s)." $r (printf "%64s%64s" "" "")}}`,
		says:     []string{"exceeds the render budget", "reReplaceAll would return more than 4096 bytes"},
	},
	"functions building text in nested loops": {
		template: `{{$b := printf "%64s%64s%64s%64s%64s%64s%64s%64s" "" "" "" "" "" "" "" ""}}{{$c := printf "%s%s%s%s%s%s%s" $b $b $b $b $b $b $b}}{{range .Alerts}}{{$d := printf "%s" $c}}{{$e := printf "%s" $c}}{{end}}`,
		says:     []string{"exceeds the render budget", "printf would take the text handled by functions past 262144 bytes"},
	},
	"too long": {
		template: strings.Repeat("x", maxTitleTemplateLength+1),
		says:     []string{"1025 characters long; at most 1024"},
	},
}

func TestCompileRouteRefusesHostileTitleTemplates(t *testing.T) {
	for name, tc := range hostileTitleTemplates {
		t.Run(name, func(t *testing.T) {
			_, err := CompileRoute(klaxonv1alpha1.AlertRouteSpec{TitleTemplate: tc.template})
			if !errors.Is(err, ErrInvalidTitleTemplate) {
				t.Fatalf("CompileRoute error %v is not ErrInvalidTitleTemplate", err)
			}
			if !strings.HasPrefix(err.Error(), "spec.titleTemplate ") {
				t.Errorf("error %q does not name the field first", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), tmplbudget.StepFunc) {
				t.Errorf("error %q names the instrumentation", err)
			}
		})
	}
}

// unicodeClasses is an expression of about one instruction that takes
// about 10 ms and 3 MiB to compile: parsing merges eighty classes of
// hundreds of ranges each; as a template string literal.
var unicodeClasses = strings.ReplaceAll("(?i)"+strings.Repeat(`\p{L}|`, 80)+"x", `\`, `\\`)

// workingTitleTemplates must keep rendering as they do in Alertmanager.
var workingTitleTemplates = map[string]struct {
	template string
	want     string
}{
	"default":                           {DefaultTitleTemplate, "CheckoutLatency: p99 above 2s"},
	"alertname and summary":             {`{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`, "CheckoutLatency: p99 above 2s"},
	"instances of the firing alerts":    {`{{ range .Alerts.Firing }}{{ .Labels.instance }} {{ end }}`, "host-a host-c"},
	"number of alerts":                  {`{{ len .Alerts }} alerts`, "3 alerts"},
	"upper-cased severity":              {`{{ .CommonLabels.severity | toUpper }}`, "CRITICAL"},
	"printf with small widths":          {`{{ printf "%-9s|%5.1f|%03d|%x" .CommonLabels.team 2.5 7 "hi" }}`, "payments | 2.5|007|6869"},
	"printf with an argument index":     {`{{ printf "%[2]s-%[1]s" "a" "b" }}`, "b-a"},
	"Alertmanager string functions":     {`{{ title "checkout down" }} {{ toLower "ABC" }} {{ trimSpace "  x  " }} {{ join "," (stringSlice "a" "b") }} {{ urlUnescape "a%20b" }}`, "Checkout Down abc x a,b a b"},
	"regular expressions":               {`{{ if match "^Checkout" .CommonLabels.alertname }}{{ reReplaceAll "(\\w+)Latency" "slow $1" .CommonLabels.alertname }}{{ end }}`, "slow Checkout"},
	"dates and durations":               {`{{ (index .Alerts 0).StartsAt | tz "UTC" | date "15:04" }} {{ humanizeDuration 3661 }} {{ (index .Alerts 0).StartsAt.Format "2006-01-02" }}`, "10:00 1h 1m 1s 2026-11-23"},
	"toJson of a label set":             {`{{ toJson .GroupLabels }}`, `{"alertname":"CheckoutLatency"}`},
	"builtins that escape":              {`{{ html "<b>" }} {{ js "'" }} {{ urlquery "a b" }} {{ print "x" 1 }} {{ println "y" }}`, `&lt;b&gt; \' a+b x1 y`},
	"sorted pairs and Remove":           {`{{ range (.CommonLabels.Remove .GroupLabels.Names).SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}`, "severity=critical team=payments"},
	"range with index and element":      {`{{ range $i, $a := .Alerts }}{{ if $i }},{{ end }}{{ $a.Labels.instance }}{{ end }}`, "host-a,host-b,host-c"},
	"range over dot":                    {`{{ with .Alerts.Resolved }}{{ range . }}{{ .Labels.instance }}{{ end }}{{ end }}`, "host-b"},
	"range over a label set":            {`{{ range $k, $v := .GroupLabels }}{{ $k }}={{ $v }}{{ end }}`, "alertname=CheckoutLatency"},
	"small number range":                {`{{ range 3 }}ab{{ end }}`, "ababab"},
	"break and continue":                {`{{ range .Alerts }}{{ if eq .Status "resolved" }}{{ continue }}{{ end }}{{ .Labels.instance }}{{ break }}{{ end }}`, "host-a"},
	"variables declared in the loop":    {`{{ range .Alerts.Firing }}{{ $i := .Labels.instance }}{{ $i }};{{ end }}`, "host-a;host-c;"},
	"truncated count and group key":     {`{{ .TruncatedAlerts }} {{ .GroupKey | len }}`, fmt.Sprintf("0 %d", len(testGroupKey))},
	"long output is cut like any title": {`{{ range 300 }}é{{ end }}`, strings.Repeat("é", 199) + "…"},
}

// titleTestMessage has three alerts, two firing, with instances.
func titleTestMessage() *Message {
	var alerts []Alert
	for i, status := range []string{StatusFiring, StatusResolved, StatusFiring} {
		a := firingAlert(fp(i), t0)
		a.Status = status
		a.Labels["instance"] = fmt.Sprintf("host-%c", 'a'+i)
		alerts = append(alerts, a)
	}
	return message(alerts...)
}

func TestTitleTemplatesThatKeepWorking(t *testing.T) {
	for name, tc := range workingTitleTemplates {
		t.Run(name, func(t *testing.T) {
			r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{TitleTemplate: tc.template})
			got, err := r.Title(titleTestMessage())
			if err != nil {
				t.Fatalf("Title: %v", err)
			}
			if got != tc.want {
				t.Errorf("Title = %q, want %q", got, tc.want)
			}
		})
	}
}

// hugeMessage is a real-looking notification of n alerts: far more than a
// receiver's 4 MiB body limit lets through, with ten labels and two
// annotations each.
func hugeMessage(n int) *Message {
	alerts := make([]Alert, 0, n)
	for i := range n {
		a := firingAlert(fp(i), t0.Add(time.Duration(i)*time.Second))
		maps.Copy(a.Labels, KV{"instance": fmt.Sprintf("10.0.%d.%d:9100", i/256, i%256), "job": "node", "namespace": "payments",
			"cluster": "eu-west-1", "container": "checkout", "service": "checkout"})
		a.Annotations["description"] = fmt.Sprintf("Checkout p99 latency on %s has been above 2s for 5 minutes.", a.Labels["instance"])
		if i%3 == 0 {
			a.Status = StatusResolved
		}
		alerts = append(alerts, a)
	}
	return message(alerts...)
}

// acceptedCostlyTemplates are accepted but do as much as the budget allows
// on the largest view: quadratic loops, data methods in loops, functions
// in loops, regular expressions in loops, output that never fills.
var acceptedCostlyTemplates = map[string]string{
	"alerts within alerts":          `{{range .Alerts}}{{range $.Alerts}}{{end}}{{end}}`,
	"labels within alerts":          `{{range $a := .Alerts}}{{range $k, $v := .Labels}}{{end}}{{end}}`,
	"data methods in a loop":        `{{range .Alerts}}{{$f := $.Alerts.Firing}}{{$p := .Labels.SortedPairs}}{{end}}`,
	"functions in a loop":           `{{range .Alerts}}{{$s := printf "%64s%64s" .Labels.instance .Annotations.description}}{{$t := join "," .Labels.Values}}{{$u := toUpper $t}}{{end}}`,
	"regular expressions in a loop": `{{range .Alerts}}{{$m := match "^(10\\.0\\.[0-9]+\\.[0-9]+):9100$" .Labels.instance}}{{$r := reReplaceAll "(\\d+)" "<$1>" .Annotations.description}}{{end}}`,
	"printing everything":           `{{.}}{{.Alerts}}`,
	"long number range with output": `{{ range $i := 100000000 }}xxxxxxxx{{ end }}`,
}

// TestTitleOverAHugeMessage renders over 20,000 alerts: the view keeps the
// work and the memory of a render bounded whatever the payload.
func TestTitleOverAHugeMessage(t *testing.T) {
	msg := hugeMessage(20_000)
	templates := maps.Clone(acceptedCostlyTemplates)
	for name, tc := range workingTitleTemplates {
		templates["working: "+name] = tc.template
	}
	for name, text := range templates {
		t.Run(name, func(t *testing.T) {
			r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{TitleTemplate: text})
			var usage tmplbudget.Usage
			var err error
			alloc := totalAlloc(func() { _, usage, err = r.title.execute(msg) })
			if err != nil && !errors.Is(err, tmplbudget.ErrBudget) {
				// Data errors (an index past the end) are fine; the budget
				// is what this test is about.
				t.Logf("render error: %v", err)
			}
			checkUsage(t, usage)
			// The view, the work of at most tmplbudget.MaxRenderSteps steps and the
			// functions' bytes: a few MiB at most, against gigabytes
			// without a budget.
			if alloc > 16<<20 {
				t.Errorf("render allocated %d bytes", alloc)
			}
			title, _ := r.Title(msg)
			if n := utf8.RuneCountInString(title); n < 1 || n > MaxTitleLength {
				t.Errorf("title %q has %d characters", title, n)
			}
		})
	}
}

func checkUsage(t *testing.T, u tmplbudget.Usage) {
	t.Helper()
	if u.Steps > tmplbudget.MaxRenderSteps || u.Text > tmplbudget.MaxFunctionText || u.RegexpWork > tmplbudget.MaxRegexpWork || u.RegexpCalls > tmplbudget.MaxRegexpCalls || u.RegexpCompile > tmplbudget.MaxRegexpCompileWork {
		t.Errorf("render used %+v, over budget", u)
	}
}

// totalAlloc is how many bytes f allocates.
func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestTitleSeesABoundedView(t *testing.T) {
	msg := hugeMessage(20_000)
	r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{
		TitleTemplate: `{{ len .Alerts }} of {{ .TruncatedAlerts }} more; {{ len .Alerts.Firing }} firing; first {{ (index .Alerts 0).Labels.instance }}`,
	})
	got, err := r.Title(msg)
	if err != nil {
		t.Fatal(err)
	}
	// Firing alerts first: alerts 1, 2, 4, 5, ... fire (every third is
	// resolved); the first kept is alert 1.
	if want := "50 of 19950 more; 50 firing; first 10.0.0.1:9100"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}

	t.Run("resolved alerts fill up in payload order", func(t *testing.T) {
		msg := message(resolvedAlert("r0", t0, t0), firingAlert("f1", t0), resolvedAlert("r2", t0, t0))
		v := titleView(msg)
		if fps := alertFingerprints(v.Alerts); !slices.Equal(fps, []string{"r0", "f1", "r2"}) {
			t.Errorf("view alerts %v", fps)
		}
		if v.TruncatedAlerts != 0 {
			t.Errorf("TruncatedAlerts = %d", v.TruncatedAlerts)
		}
	})
	t.Run("labels, values and the truncated count are bounded", func(t *testing.T) {
		a := firingAlert("a", t0)
		for i := range 100 {
			a.Labels[fmt.Sprintf("l%03d", i)] = "v"
		}
		a.Annotations["description"] = strings.Repeat("ü", 5000)
		msg := message(a, resolvedAlert("b", t0, t0))
		msg.TruncatedAlerts = ^uint64(0)
		msg.Alerts = append(msg.Alerts, make([]Alert, MaxAlertItems)...)
		v := titleView(msg)
		got := v.Alerts[0]
		if len(got.Labels) != maxViewPairs || got.Labels[alertnameLabel] != "CheckoutLatency" {
			t.Errorf("%d labels, alertname %q", len(got.Labels), got.Labels[alertnameLabel])
		}
		if d := got.Annotations["description"]; len(d) > maxTemplateString || !strings.HasSuffix(d, "…") || !utf8.ValidString(d) {
			t.Errorf("description of %d bytes, ends %q", len(d), d[len(d)-8:])
		}
		if len(v.Alerts) != MaxAlertItems || v.TruncatedAlerts != ^uint64(0) {
			t.Errorf("%d alerts, %d truncated", len(v.Alerts), v.TruncatedAlerts)
		}
		if msg.Alerts[0].Annotations["description"] != strings.Repeat("ü", 5000) {
			t.Error("the view changed the notification")
		}
	})
	t.Run("all text is bounded", func(t *testing.T) {
		var alerts []Alert
		for i := range MaxAlertItems {
			a := firingAlert(fp(i), t0)
			for j := range maxViewPairs {
				a.Labels[fmt.Sprintf("l%02d", j)] = strings.Repeat("x", 1000)
			}
			alerts = append(alerts, a)
		}
		v := titleView(message(alerts...))
		n := 0
		for _, a := range v.Alerts {
			for k, val := range a.Labels {
				n += len(k) + len(val)
			}
		}
		if n > maxViewBytes {
			t.Errorf("view holds %d bytes of labels", n)
		}
		if len(v.Alerts) == MaxAlertItems || v.TruncatedAlerts == 0 {
			t.Errorf("%d alerts kept, %d counted as truncated", len(v.Alerts), v.TruncatedAlerts)
		}
	})
	t.Run("no data", func(t *testing.T) {
		got, err := r.Title(&Message{GroupKey: "g"})
		if err == nil || got != "Alert group g" {
			t.Errorf("Title = %q, %v", got, err)
		}
	})
}

func alertFingerprints(alerts []Alert) []string {
	var fps []string
	for _, a := range alerts {
		fps = append(fps, a.Fingerprint)
	}
	return fps
}

// TestTitleOverBudgetAtDelivery: a template whose cost depends on the data
// passes the trial but may still run past its budget on a real
// notification; the title falls back and the error says why.
func TestTitleOverBudgetAtDelivery(t *testing.T) {
	r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{
		TitleTemplate: `{{range .Alerts}}{{if .Labels.heavy}}{{range $.Alerts}}{{$f := $.Alerts.Firing}}{{end}}{{end}}{{end}}`,
	})
	msg := hugeMessage(100)
	for _, a := range msg.Alerts {
		a.Labels["heavy"] = "yes"
	}
	got, err := r.Title(msg)
	if got != "CheckoutLatency" {
		t.Errorf("Title = %q, want the fallback", got)
	}
	if !errors.Is(err, tmplbudget.ErrBudget) || !strings.Contains(err.Error(), "{{range $.Alerts}} (line 1, column 46) ran past the budget") {
		t.Errorf("error = %v", err)
	}
	inc, err := NewIncident(r, "payments", "ns", 1, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inc.Spec.Description, "ran past the budget") {
		t.Errorf("description %q does not explain the fallback", inc.Spec.Description)
	}
}

// BenchmarkTitleWorstAccepted renders, over 20,000 alerts, each accepted
// template that does as much as its budget allows.
func BenchmarkTitleWorstAccepted(b *testing.B) {
	msg := hugeMessage(20_000)
	for _, name := range slices.Sorted(maps.Keys(acceptedCostlyTemplates)) {
		r := mustCompile(b, klaxonv1alpha1.AlertRouteSpec{TitleTemplate: acceptedCostlyTemplates[name]})
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = r.Title(msg)
			}
		})
	}
}

// BenchmarkTitleDefault is the everyday case, for comparison.
func BenchmarkTitleDefault(b *testing.B) {
	msg := hugeMessage(50)
	r := mustCompile(b, klaxonv1alpha1.AlertRouteSpec{})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = r.Title(msg)
	}
}

func TestCleanTitle(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"invalid UTF-8 goes, U+FFFD stays": {"a\xffb\uFFFDc", "ab\uFFFDc"},
		"whitespace runs become a space":   {" a \n\t b ", "a b"},
		"exactly the limit":                {strings.Repeat("x", MaxTitleLength), strings.Repeat("x", MaxTitleLength)},
		"one past the limit":               {strings.Repeat("x", MaxTitleLength+1), strings.Repeat("x", MaxTitleLength-1) + "…"},
		"a space at the limit":             {strings.Repeat("x", MaxTitleLength) + " y", strings.Repeat("x", MaxTitleLength-1) + "…"},
		"a huge value":                     {strings.Repeat("x ", 1<<20), strings.TrimSpace(strings.Repeat("x ", MaxTitleLength/2)[:MaxTitleLength-1]) + "…"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := cleanTitle(tc.in); got != tc.want {
				t.Errorf("cleanTitle = %q, want %q", got, tc.want)
			}
		})
	}
}
