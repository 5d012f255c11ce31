package tmplbudget

// saturation stands for "unbounded" in the static sums: saturating
// arithmetic keeps a product of loops from overflowing into a small number.
const saturation = 1 << 50

func satAdd(a, b int64) int64 {
	if a >= saturation-b {
		return saturation
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= saturation/b {
		return saturation
	}
	return a * b
}
