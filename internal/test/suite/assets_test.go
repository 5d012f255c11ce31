package suite

import (
	"os"
	"strings"
	"testing"
)

func TestCheckAssets(t *testing.T) {
	a := Asset{Env: "KLAXON_TEST_ASSET_A", Target: "make a", Why: "it builds a"}
	b := Asset{Env: "KLAXON_TEST_ASSET_B", Target: "make b", Why: "it builds b"}
	for name, tc := range map[string]struct {
		env                map[string]string // absent: unset
		wantSkip, wantFail []string          // substrings; none means empty
	}{
		"all set":        {env: map[string]string{a.Env: "/a", b.Env: "/b"}},
		"one unset":      {env: map[string]string{a.Env: "/a"}, wantSkip: []string{`KLAXON_TEST_ASSET_B is not set; run "make b" (it builds b)`}},
		"both unset":     {env: map[string]string{}, wantSkip: []string{"KLAXON_TEST_ASSET_A is not set", "KLAXON_TEST_ASSET_B is not set"}},
		"unset under CI": {env: map[string]string{"CI": "true", a.Env: "/a"}, wantFail: []string{"KLAXON_TEST_ASSET_B is not set"}},
		"CI=false skips": {env: map[string]string{"CI": "false", a.Env: "/a"}, wantSkip: []string{"KLAXON_TEST_ASSET_B is not set"}},
		"set but empty":  {env: map[string]string{a.Env: "", b.Env: "/b"}, wantFail: []string{`KLAXON_TEST_ASSET_A is empty: "make a" did not find or build its tool`}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, env := range []string{"CI", a.Env, b.Env} {
				t.Setenv(env, "") // restored after the test
				if v, ok := tc.env[env]; ok {
					t.Setenv(env, v)
				} else if err := os.Unsetenv(env); err != nil {
					t.Fatal(err)
				}
			}
			skip, fail := checkAssets([]Asset{a, b})
			check := func(what, got string, want []string) {
				if len(want) == 0 && got != "" {
					t.Errorf("%s = %q, want none", what, got)
				}
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("%s = %q, want it to say %q", what, got, w)
					}
				}
			}
			check("skip", skip, tc.wantSkip)
			check("fail", fail, tc.wantFail)
		})
	}
}
