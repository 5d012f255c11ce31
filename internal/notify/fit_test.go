package notify

import "testing"

func TestLongestFit(t *testing.T) {
	for _, c := range []struct{ lo, hi, limit, want int }{
		{0, 100, 37, 37},
		{0, 100, 100, 100},
		{0, 100, 500, 100},
		{0, 100, 0, 0},
		{5, 5, 5, 5},
		{12, 40, 12, 12},
	} {
		calls := 0
		got := LongestFit(c.lo, c.hi, func(n int) bool { calls++; return n <= c.limit })
		if got != c.want || calls > 8 {
			t.Errorf("LongestFit(%d, %d, <= %d) = %d in %d calls, want %d", c.lo, c.hi, c.limit, got, calls, c.want)
		}
	}
}
