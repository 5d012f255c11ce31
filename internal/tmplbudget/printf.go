package tmplbudget

import (
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// verb is what a printf verb asks of fmt beyond its argument.
type verb struct {
	// pad is its width plus its precision, each capped just over
	// MaxFormatWidth; widest is the larger of them, capped the same way.
	pad, widest int
	// star: a width or precision comes from an argument.
	star bool
	// percent: %%, which prints a percent sign and takes no argument.
	percent bool
}

// scanFormat calls fn for each verb of a printf format. It reads flags,
// widths, precisions and argument indexes in any order, as a format may
// write them, so nothing fmt would honour slips past.
func scanFormat(format string, fn func(verb) error) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		var v verb
	spec:
		for i++; i < len(format); i++ {
			switch c := format[i]; {
			case c == '*':
				v.star = true
			case c == '[': // an argument index
				if j := strings.IndexByte(format[i:], ']'); j >= 0 {
					i += j
				} else {
					i = len(format)
				}
			case c >= '0' && c <= '9':
				n := 0
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n <= MaxFormatWidth {
						n = n*10 + int(format[i]-'0')
					}
				}
				n = min(n, MaxFormatWidth+1)
				v.pad += n
				v.widest = max(v.widest, n)
				i--
			case strings.IndexByte("+-# .", c) >= 0:
			default:
				v.percent = c == '%'
				break spec
			}
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// CheckFormat refuses a printf format whose widths or precisions could
// allocate more than a template needs: numbers over MaxFormatWidth, and *,
// which takes them from an argument. Its errors are of kind ErrBudget.
func CheckFormat(format string) error {
	return scanFormat(format, func(v verb) error {
		if v.star {
			return overBudget("the format %q takes a width or precision from an argument (*); write it in the format instead, at most %d", bounded.Runes(format, 40), MaxFormatWidth)
		}
		if v.widest > MaxFormatWidth {
			return overBudget("the format %q has a width or precision over %d; use at most %d", bounded.Runes(format, 40), MaxFormatWidth, MaxFormatWidth)
		}
		return nil
	})
}

// FormatBound bounds the bytes fmt.Sprintf prints for a format that
// CheckFormat accepted, given a bound on the printed size of each argument:
// each verb prints at most its width and precision plus an argument,
// escaped (%q may take six bytes per byte), and arguments without a verb
// are printed as %!(EXTRA ...).
func FormatBound(format string, args []int64) int64 {
	var widest, sum int64
	for _, a := range args {
		widest = max(widest, a)
		sum = satAdd(sum, a)
	}
	total := satAdd(int64(len(format)), satAdd(sum, int64(len(args))*scalarBound))
	_ = scanFormat(format, func(v verb) error {
		total = satAdd(total, int64(v.pad))
		if !v.percent {
			total = satAdd(total, satAdd(satMul(6, widest), scalarBound))
		}
		return nil
	})
	return total
}
