package notify

// LongestFit is the largest n in [lo, hi] for which fits(n) holds, found
// by bisection, for cutting text to a limit: fits(lo) must hold, and a
// longer cut must never fit where a shorter one does not. It calls fits
// about log2(hi-lo) times, where cutting one character at a time would
// call it once per character.
func LongestFit(lo, hi int, fits func(int) bool) int {
	if hi <= lo {
		return lo
	}
	hi++ // fits(lo) holds; fits(hi) is taken not to
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
