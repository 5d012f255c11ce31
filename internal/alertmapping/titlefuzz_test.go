package alertmapping

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// Memory one compile or render may allocate in all, garbage included: a
// few MiB is what the budget allows; without one, gigabytes.
const (
	maxFuzzCompileAlloc = 32 << 20
	maxFuzzRenderAlloc  = 16 << 20
)

// FuzzTitleTemplate compiles arbitrary text as spec.titleTemplate and renders
// what compiles over an ordinary, an empty, a huge and the trial's
// worst-case notifications. Whatever the text, nothing panics, CompileRoute
// refuses with an error of kind ErrInvalidTitleTemplate that names the
// field, every title fits spec.title, and every render stays within its
// budget and a bounded amount of memory. The seeds in
// testdata/fuzz/FuzzTitleTemplate are the hostile templates the budget is
// for.
func FuzzTitleTemplate(f *testing.F) {
	for _, tc := range workingTitleTemplates {
		f.Add(tc.template)
	}
	for _, text := range acceptedCostlyTemplates {
		f.Add(text)
	}
	msgs := append([]*Message{titleTestMessage(), message(), hugeMessage(20_000)}, trialMessages()...)

	f.Fuzz(func(t *testing.T, text string) {
		var route *Route
		var err error
		if alloc := totalAlloc(func() { route, err = CompileRoute(klaxonv1alpha1.AlertRouteSpec{TitleTemplate: text}) }); alloc > maxFuzzCompileAlloc {
			t.Errorf("CompileRoute allocated %d bytes", alloc)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidTitleTemplate) || !strings.HasPrefix(err.Error(), "spec.titleTemplate ") {
				t.Fatalf("CompileRoute error %q is not an invalid title template naming the field", err)
			}
			return
		}
		for _, msg := range msgs {
			var usage tmplbudget.Usage
			if alloc := totalAlloc(func() { _, usage, _ = route.title.execute(msg) }); alloc > maxFuzzRenderAlloc {
				t.Errorf("render over %d alerts allocated %d bytes", len(msg.Alerts), alloc)
			}
			checkUsage(t, usage)
			title, _ := route.Title(msg)
			if n := utf8.RuneCountInString(title); n < 1 || n > MaxTitleLength || strings.ContainsAny(title, "\n\r\t") || !utf8.ValidString(title) {
				t.Fatalf("title %q (%d characters)", title, n)
			}
		}
	})
}
