package phone

import "testing"

func TestIsNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"+4915112345678":    true,
		"+1500555":          true,
		"+123456789012345":  true,
		"+1234567890123456": false, // 16 digits
		"+0415112345678":    false,
		"4915112345678":     false,
		"+49 151 12345678":  false,
		"+123456":           false,
		"":                  false,
	} {
		if got := IsNumber(s); got != want {
			t.Errorf("IsNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMaskAll(t *testing.T) {
	for in, want := range map[string]string{
		"+4915112345678": "+…78",
		"The 'To' number +15005550001 is not a valid phone number.": "The 'To' number +…01 is not a valid phone number.",
		"error 21211 at https://www.twilio.com/docs/errors/21211":   "error 21211 at https://www.twilio.com/docs/errors/21211",
		"call (415) 555-0100 now":                                   "call (+…00 now",
		"1":                                                         "1",
	} {
		if got := MaskAll(in); got != want {
			t.Errorf("MaskAll(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Mask("7"); got != "+…" {
		t.Errorf("Mask(7) = %q", got)
	}
}
