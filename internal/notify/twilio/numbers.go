package twilio

import (
	"regexp"
	"strings"
)

// maskedDigits is how many last digits of a number are shown: enough to
// tell a person's numbers apart, too few to call them.
const maskedDigits = 2

// MaskNumber is a phone number fit for a log or an error: its last two
// digits, such as "+…78".
func MaskNumber(number string) string {
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

// numberLike is a run of digits, spaces and dashes long enough to be a
// phone number, with or without a leading +.
var numberLike = regexp.MustCompile(`\+?[0-9][0-9 ().-]{4,}[0-9]`)

// MaskNumbers masks every phone number in s (Twilio's error messages quote
// the number they refused).
func MaskNumbers(s string) string {
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
		return MaskNumber(n)
	})
}
