package apitime

import "time"

// CeilSecond rounds t up to a whole second. The API server stores whole
// seconds, so a deadline written to status must be rounded up: read back, it
// must never be earlier than computed, or a page would come early.
func CeilSecond(t time.Time) time.Time {
	if f := t.Truncate(time.Second); f.Before(t) {
		return f.Add(time.Second)
	}
	return t
}
