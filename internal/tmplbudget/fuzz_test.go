package tmplbudget

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"text/template/parse"
	"unicode/utf8"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// budgetFactor is how far a render's allocations may go past the static
// bound before the bound is wrong: the bound counts output and work in
// bytes, and a render allocates its output about four times (printed,
// written into a buffer that doubles as it grows, copied out), so a bound
// that holds is within this factor.
const budgetFactor = 8

// FuzzTemplateBudget renders every template the static check accepts with
// Alertmanager's own template package, over data as large as the check
// assumes, and fails when the render allocates more than budgetFactor
// times the check's bound (plus what rendering a one-character template costs, and parsing).
func FuzzTemplateBudget(f *testing.F) {
	for _, seed := range []string{
		`{{ .CommonLabels.alertname }}: {{ range .Alerts }}{{ .Annotations.summary }}{{ end }}`,
		`{{ printf "%-64s|%.3s" .Status .ExternalURL }}`,
		`{{ reReplaceAll "a+" "b" .Status }}`,
		`{{ reReplaceAll "(.)" "$1$1" .CommonLabels.alertname }} {{ reReplaceAll "" "-" .CommonAnnotations.summary }}`,
		`{{ range .CommonLabels }}{{ range $.CommonLabels }}{{ match "^[\\p{L}\\p{N}_.-]+$" . }}{{ end }}{{ end }}`,
		`{{ range .CommonLabels.SortedPairs }}{{ reReplaceAll "(?i)^[\\p{L}\\p{N}]{1,64}$" "<$0>" .Value }}{{ end }}`,
		`{{ match "a{999}" .CommonLabels.alertname }}{{ match "^(?:ab){300}$" "" }}`,
		`{{ range .Alerts }}{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value | toUpper }} {{ end }}{{ end }}`,
		`{{ toJson . }} {{ . }} {{ html .CommonAnnotations.summary }}`,
		findingBlock()[0],
	} {
		f.Add(seed)
	}
	data := worstData(f)
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		f.Fatal(err)
	}
	var base uint64
	var once sync.Once
	f.Fuzz(func(t *testing.T, text string) {
		b := &Static{}
		if b.Check(text) != nil {
			return
		}
		once.Do(func() {
			base = leastAlloc(func() { _, _ = tmpl.ExecuteTextString("x", data) })
		})
		// Parsing is proportional to the text, which the caller bounds,
		// not to the data: Alertmanager parses once per render.
		parsing := leastAlloc(func() { _, _ = parse.Parse("", text, "", "", ParseFuncs) })
		alloc := leastAlloc(func() { _, _ = tmpl.ExecuteTextString(text, data) })
		if alloc > budgetFactor*uint64(b.Total())+base+2*parsing {
			t.Fatalf("accepted with a bound of %d bytes, the render allocated %d (%d for an empty render, %d parsing)", b.Total(), alloc, base, parsing)
		}
	})
}

// leastAlloc is what f allocates, the least of two runs (a background
// allocation may land in one).
func leastAlloc(f func()) uint64 {
	least := ^uint64(0)
	for range 2 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// worstData is an alert as large as the static check assumes: StaticPairs
// labels and annotations, one value of each LeafBound long, all of it
// printing within DataBound, in text of every script a class may match.
func worstData(tb testing.TB) *amtemplate.Data {
	leaf := func(n int) string {
		const mix = "Checkout é€😀 Ωμέγα 漢字 42 _-.x\n"
		s := strings.Repeat(mix, n/len(mix)+1)
		for len(s) > n {
			_, size := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-size]
		}
		return s
	}
	labels, annotations := amtemplate.KV{}, amtemplate.KV{}
	for i := 1; i < StaticPairs; i++ {
		labels[fmt.Sprintf("label%02d", i)] = leaf(64)
		annotations[fmt.Sprintf("note%02d", i)] = leaf(64)
	}
	labels["alertname"] = leaf(LeafBound)
	annotations["summary"] = leaf(LeafBound)
	alert := amtemplate.Alert{Status: "firing", Labels: labels, Annotations: annotations, GeneratorURL: leaf(256), Fingerprint: "0123456789abcdef"}
	data := &amtemplate.Data{
		Receiver:          "klaxon",
		Status:            "firing",
		Alerts:            amtemplate.Alerts{alert},
		GroupLabels:       amtemplate.KV{"namespace": "payments"},
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		ExternalURL:       "http://klaxon.invalid",
	}
	if n := len(fmt.Sprint(data)); n > DataBound {
		tb.Fatalf("the data prints as %d bytes, more than DataBound", n)
	}
	return data
}
