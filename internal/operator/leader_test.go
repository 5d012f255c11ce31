package operator

import (
	"strings"
	"testing"
	"time"
)

func TestLeaderElectionTimes(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name                 string
		lease, renew, retry  time.Duration
		wantLease, wantRenew time.Duration
		wantRetry            time.Duration
		wantErr              string
	}{
		{name: "defaults", wantLease: 15 * s, wantRenew: 10 * s, wantRetry: 2 * s},
		{name: "all set", lease: 4 * s, renew: 3 * s, retry: s / 2, wantLease: 4 * s, wantRenew: 3 * s, wantRetry: s / 2},
		{name: "negative", retry: -s, wantErr: "must not be negative"},
		{name: "renew not shorter than the lease", lease: 10 * s, renew: 10 * s, wantErr: "renew deadline 10s must be shorter than the lease duration 10s"},
		{name: "a default lease against a long renew", renew: 20 * s, wantErr: "renew deadline 20s must be shorter than the lease duration 15s"},
		{name: "retry too long for the default renew", retry: 9 * s, wantErr: "must be longer than 1.2 retry periods (9s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lease, renew, retry, err := leaderElectionTimes(tc.lease, tc.renew, tc.retry)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || lease != tc.wantLease || renew != tc.wantRenew || retry != tc.wantRetry {
				t.Errorf("= %s, %s, %s, %v; want %s, %s, %s", lease, renew, retry, err, tc.wantLease, tc.wantRenew, tc.wantRetry)
			}
		})
	}
}
