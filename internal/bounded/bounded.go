package bounded

import "unicode/utf8"

// Marker ends a string that was cut.
const Marker = "…"

// Limits the API server enforces on what the operator writes, beyond the
// ones each CRD field states next to its Go field.
const (
	// ConditionMessage is metav1.Condition's message limit, in characters.
	ConditionMessage = 32768
	// EventNote is the events.k8s.io limit of an Event's note, in bytes.
	EventNote = 1024
	// EventReason and EventAction are the events.k8s.io limits, in bytes.
	EventReason = 128
	EventAction = 128
)

// Runes returns s cut to at most n characters (runes, as the API server
// counts maxLength), ending in Marker when cut. Invalid UTF-8 is kept as it
// is; the API server counts each invalid byte as one character.
func Runes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	keep := n - 1 // room for Marker, one rune
	i := 0
	for pos := range s {
		if i == keep {
			return s[:pos] + Marker
		}
		i++
	}
	return s
}

// Prefix returns the first n characters of s, with no marker: for values
// such as fingerprints, where a marker would only add a false character.
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// Bytes returns s cut to at most n bytes on a rune boundary, ending in
// Marker when cut, for limits counted in bytes (an Event's note, a
// notification's text, an error kept in a status). An n too small to hold
// Marker gives "": a cut value is always marked. Invalid UTF-8 before the
// cut is kept as it is.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < len(Marker) {
		return ""
	}
	cut := n - len(Marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Marker
}
