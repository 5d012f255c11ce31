package suite

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Asset is a tool a suite needs, found through an environment variable
// that a make target sets.
type Asset struct {
	// Env is the variable.
	Env string
	// Target is the make target that sets it.
	Target string
	// Why says what the target does to set it.
	Why string
}

// The assets Klaxon's suites need. `make test` sets every one of them.
var (
	ControlPlane = Asset{"KUBEBUILDER_ASSETS", "make test", "it builds kube-apiserver and etcd and sets it"}
	Alertmanager = Asset{"KLAXON_ALERTMANAGER_DIR", "make test", "it installs Alertmanager and sets it"}
	Mailpit      = Asset{"KLAXON_MAILPIT_DIR", "make test", "it installs mailpit and sets it"}
	Helm         = Asset{"KLAXON_HELM", "make test", "it installs the pinned helm and sets it"}
	Kustomize    = Asset{"KLAXON_KUSTOMIZE", "make test", "it installs the pinned kustomize and sets it"}
)

// checkAssets says why a suite cannot run: skip when a variable is merely
// unset, as in a plain `go test ./...` on a fresh clone; fail when CI is set
// or a variable is set but empty (what a make target leaves when the tool
// failed to build), so that CI never skips a suite unnoticed.
func checkAssets(assets []Asset) (skip, fail string) {
	var unset, empty []string
	for _, a := range assets {
		v, ok := os.LookupEnv(a.Env)
		switch {
		case !ok:
			unset = append(unset, fmt.Sprintf("%s is not set; run %q (%s)", a.Env, a.Target, a.Why))
		case v == "":
			empty = append(empty, fmt.Sprintf("%s is empty: %q did not find or build its tool", a.Env, a.Target))
		}
	}
	if len(empty) > 0 || (len(unset) > 0 && inCI()) {
		return "", strings.Join(append(empty, unset...), "\n")
	}
	return strings.Join(unset, "\n"), ""
}

// inCI tells whether CI is set, as CI services set it (CI=true).
func inCI() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// RequireAssets is for a TestMain whose every test needs assets: it returns
// when they are all there. Otherwise it exits, without running a test: 0,
// saying which make target runs them, when a variable is unset; 1 under CI
// or when a variable is set but empty. `go test ./...` shows a passing
// package's output only with -v, so the skip also marks the package's ok
// line "[no tests to run]".
func RequireAssets(_ *testing.M, assets ...Asset) {
	skip, fail := checkAssets(assets)
	switch {
	case fail != "":
		for line := range strings.SplitSeq(fail, "\n") {
			fmt.Fprintf(os.Stderr, "FAIL: %s\n", line)
		}
		os.Exit(1)
	case skip != "":
		for line := range strings.SplitSeq(skip, "\n") {
			fmt.Fprintf(os.Stderr, "skipping: %s\n", line)
		}
		// The go command recognises this line and marks the package
		// "[no tests to run]" even without -v.
		fmt.Println("testing: warning: no tests to run")
		fmt.Println("PASS")
		os.Exit(0)
	}
}

// RequireAssetsT is RequireAssets for one test: it skips t, or fails it
// under CI or when a variable is set but empty.
func RequireAssetsT(t testing.TB, assets ...Asset) {
	t.Helper()
	skip, fail := checkAssets(assets)
	switch {
	case fail != "":
		t.Fatal(fail)
	case skip != "":
		t.Skip(skip)
	}
}
