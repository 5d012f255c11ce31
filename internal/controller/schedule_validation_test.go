package controller_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The API server refuses shifts under an hour, saying so: a one-nanosecond
// shift used to hand off, write status and record an Event every second. A
// shift that is not positive is told only that, not both.
func TestScheduleShiftHasAMinimum(t *testing.T) {
	ns := newNamespace(t)
	cases := map[string]struct {
		shift   string // as a person writes it; sent as is
		says    string // "" when the schedule is accepted
		notSays string
	}{
		"one nanosecond":            {shift: "1ns", says: "shift must be at least 1h, such as 12h, 24h or 168h"},
		"half an hour":              {shift: "30m", says: "shift must be at least 1h, such as 12h, 24h or 168h"},
		"a second short of an hour": {shift: "59m59s", says: "shift must be at least 1h"},
		"zero":                      {shift: "0s", says: "shift must be a positive duration", notSays: "at least 1h"},
		"negative":                  {shift: "-2h", says: "shift must be a positive duration", notSays: "at least 1h"},
		"an hour":                   {shift: "1h"},
		"sixty minutes":             {shift: "60m"},
		"twelve hours and a half":   {shift: "12h30m"},
		"a week":                    {shift: "168h"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "klaxon.dev/v1alpha1", "kind": "OnCallSchedule",
				"metadata": map[string]any{"name": strings.ReplaceAll(name, " ", "-"), "namespace": ns},
				"spec": map[string]any{
					"timeZone": "Europe/Berlin",
					"layers": []any{map[string]any{
						"name": "primary", "participants": []any{"alice", "bob"},
						"start": "2026-11-02T09:00:00", "shift": tc.shift,
					}},
				},
			}}
			err := k8s.Create(context.Background(), obj)
			if tc.says == "" {
				if err != nil {
					t.Fatalf("shift %s: got %v, want it accepted", tc.shift, err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("shift %s: got %v, want Invalid saying %q", tc.shift, err, tc.says)
			}
			if tc.notSays != "" && strings.Contains(err.Error(), tc.notSays) {
				t.Errorf("shift %s: %v also says %q", tc.shift, err, tc.notSays)
			}
		})
	}
}
