// Package phone holds what several parts of Klaxon need to know of phone
// numbers: whether a contact's address is one in E.164 form, and how to
// show one in a log, an Event or an error without giving it away.
package phone

import (
	"regexp"
	"strings"
)

// maskedDigits is how many last digits of a number are shown: enough to
// tell a person's numbers apart, too few to call them.
const maskedDigits = 2

// Mask is a phone number fit for a log or an error: its last two
// digits, such as "+…78".
func Mask(number string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, number)
	if len(digits) <= maskedDigits {
		return "+…"
	}
	return "+…" + digits[len(digits)-maskedDigits:]
}

// e164 is a phone number in E.164 form: a plus, the country code and the
// number, at most 15 digits, as the CRD's rule for contacts of a kind
// holds it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// IsNumber reports whether s is a phone number in E.164 form.
func IsNumber(s string) bool { return e164.MatchString(s) }

// numberLike is a run of digits, spaces and dashes long enough to be a
// phone number, with or without a leading +.
var numberLike = regexp.MustCompile(`\+?[0-9][0-9 ().-]{4,}[0-9]`)

// MaskAll masks every phone number in s (providers' error messages quote
// the number they refused).
func MaskAll(s string) string {
	return numberLike.ReplaceAllStringFunc(s, func(n string) string {
		digits := 0
		for _, r := range n {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 6 {
			return n // an error code or a year, not a number
		}
		return Mask(n)
	})
}
