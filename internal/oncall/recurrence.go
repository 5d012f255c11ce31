package oncall

import (
	"strconv"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Recurrence is a compiled set of restrictions on their own: local
// wall-clock windows in a time zone, repeated weekly, read exactly as a
// layer's restrictions are (DST included). Other kinds that reuse the
// restriction syntax, such as MaintenanceWindow, evaluate it with this. It
// is immutable and safe for concurrent use.
type Recurrence struct {
	r restrictions
}

// CompileRecurrence checks a time zone and restrictions written at path
// (such as spec.schedule) and prepares them. The error is an
// *InvalidSpecError, as Compile's is, with field paths under path.
func CompileRecurrence(path, timeZone string, rs ...klaxonv1alpha1.TimeRestriction) (*Recurrence, error) {
	var errs fieldErrors
	loc := loadLocation(path+".timeZone", timeZone, &errs)
	windows := make([]window, 0, len(rs))
	for i := range rs {
		p := path
		if len(rs) > 1 {
			p += "[" + strconv.Itoa(i) + "]"
		}
		if w, ok := compileWindow(p, &rs[i], &errs); ok {
			windows = append(windows, w)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &Recurrence{r: newRestrictions(loc, windows)}, nil
}

// Covers reports whether t lies in one of the windows; a Recurrence without
// restrictions covers all the time.
func (r *Recurrence) Covers(t time.Time) bool {
	return r.r.covers(t)
}

// Scan reports whether t lies in one of the windows, and the first instant
// after t at which a window opens or closes (zero: none, when there are no
// restrictions). Adjacent windows make edges at which coverage goes on.
func (r *Recurrence) Scan(t time.Time) (covered bool, next time.Time) {
	return r.r.scan(t)
}
