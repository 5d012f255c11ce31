package apitime

import (
	"testing"
	"time"
)

func TestCeilSecond(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct{ in, want time.Time }{
		"whole second":    {base, base},
		"a nanosecond on": {base.Add(time.Nanosecond), base.Add(time.Second)},
		"just below next": {base.Add(time.Second - time.Nanosecond), base.Add(time.Second)},
	}
	for name, tc := range cases {
		if got := CeilSecond(tc.in); !got.Equal(tc.want) {
			t.Errorf("%s: CeilSecond(%s) = %s, want %s", name, tc.in, got, tc.want)
		}
	}
}
