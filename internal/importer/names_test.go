package importer

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"Payments Primary":         "payments-primary",
		"  --Zoë Müller--  ":       "zoe-muller",
		"ops/on-call (EU) #2":      "ops-on-call-eu-2",
		"日本語":                      "",
		"":                         "",
		"ALL CAPS_and_underscores": "all-caps-and-underscores",
		strings.Repeat("a", 70):    strings.Repeat("a", 63),
		strings.Repeat("ab ", 30):  "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab",
		"trailing after cut " + strings.Repeat("x", 43) + " y": "trailing-after-cut-" + strings.Repeat("x", 43),
	}
	for in, want := range cases {
		got := Sanitize(in)
		if got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if got != "" {
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("Sanitize(%q) = %q, not a DNS label: %v", in, got, errs)
			}
		}
	}
}

func TestNamerIsStableAndResolvesCollisions(t *testing.T) {
	n := NewNamer()
	first, note := n.Name("OnCallSchedule", "P1", "Payments Primary")
	if first != "payments-primary" || note != "" {
		t.Fatalf("first = %q, %q", first, note)
	}
	second, note := n.Name("OnCallSchedule", "P2", "payments primary")
	if second != "payments-primary-p2" || !strings.Contains(note, "taken by OnCallSchedule P1") {
		t.Errorf("second = %q, %q; want payments-primary-p2 with a note naming P1", second, note)
	}
	third, _ := n.Name("OnCallSchedule", "P2x", "Payments-Primary")
	if third == first || third == second {
		t.Errorf("third = %q collides", third)
	}
	// Another kind has names of its own.
	if other, otherNote := n.Name("EscalationPolicy", "P9", "Payments Primary"); other != "payments-primary" || otherNote != "" {
		t.Errorf("policy = %q, %q", other, otherNote)
	}
	if again, againNote := n.Name("OnCallSchedule", "P2", "renamed meanwhile"); again != second || againNote != "" {
		t.Errorf("asked again for P2: %q, %q; want %q", again, againNote, second)
	}
	if got, ok := n.Lookup("OnCallSchedule", "P1"); !ok || got != first {
		t.Errorf("Lookup(P1) = %q, %v", got, ok)
	}
	empty, note := n.Name("Responder", "U7", "日本語")
	if empty != "responder-u7" || note == "" {
		t.Errorf("a name without letters = %q, %q; want responder-u7 and a note", empty, note)
	}
	long, _ := n.Name("Responder", "AVERYLONGIDENTIFIER", strings.Repeat("z", 80))
	longer, _ := n.Name("Responder", "AVERYLONGIDENTIFIER2", strings.Repeat("z", 80))
	for _, name := range []string{long, longer} {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("%q is not a DNS label: %v", name, errs)
		}
	}
	if long == longer {
		t.Errorf("two long names collide: %q", long)
	}
}
