package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestTargetMissedKeepsKindsBounded: an unknown kind counts as "other", so
// a caller cannot grow the label set.
func TestTargetMissedKeepsKindsBounded(t *testing.T) {
	for kind, want := range map[string]string{
		TargetAcknowledge: TargetAcknowledge, TargetUpdate: TargetUpdate, TargetResolve: TargetResolve,
		TargetPostmortem: TargetPostmortem, "Acknowledge": targetOther, "": targetOther,
	} {
		before := testutil.ToFloat64(TargetsMissed.WithLabelValues("unit", "SEV1", want))
		TargetMissed("unit", "SEV1", kind)
		if got := testutil.ToFloat64(TargetsMissed.WithLabelValues("unit", "SEV1", want)); got != before+1 {
			t.Errorf("TargetMissed(%q): %s went from %v to %v", kind, want, before, got)
		}
	}
}
