package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildPlugin builds the binary into a directory of its own and returns that
// directory, with the completion script next to the binary as an install
// puts it.
func buildPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", filepath.Join(dir, "kubectl-klaxon"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, err := os.ReadFile("kubectl_complete-klaxon")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubectl_complete-klaxon"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBinary(t *testing.T) {
	dir := buildPlugin(t)
	run := func(t *testing.T, name string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, name), args...)
		// No kubeconfig: what is tested here must not need a cluster.
		cmd.Env = []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir(), "KUBECONFIG=" + filepath.Join(t.TempDir(), "none")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	t.Run("help names the plugin as kubectl does", func(t *testing.T) {
		out, err := run(t, "kubectl-klaxon", "--help")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{"kubectl klaxon [command]", "declare", "ack", "timeline", "report", "--kubeconfig", "-n, --namespace"} {
			if !strings.Contains(out, want) {
				t.Errorf("--help lacks %q", want)
			}
		}
	})
	t.Run("every command has help", func(t *testing.T) {
		for _, c := range []string{"declare", "ack", "mitigate", "resolve", "reopen", "close", "update", "oncall", "timeline", "status", "report", "version", "completion"} {
			out, err := run(t, "kubectl-klaxon", c, "--help")
			if err != nil || !strings.Contains(out, "Usage:") {
				t.Errorf("%s --help: %v\n%s", c, err, out)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		out, err := run(t, "kubectl-klaxon", "version")
		if err != nil || out != "kubectl-klaxon v0.0.0-test\n" {
			t.Errorf("version = %q, %v", out, err)
		}
	})
	t.Run("shell completion scripts", func(t *testing.T) {
		for _, shell := range []string{"bash", "zsh", "fish"} {
			out, err := run(t, "kubectl-klaxon", "completion", shell)
			if err != nil || !strings.Contains(out, "kubectl-klaxon") {
				t.Errorf("completion %s: %v\n%.200s", shell, err, out)
			}
		}
	})
	t.Run("kubectl's plugin completion runs the plugin's", func(t *testing.T) {
		out, err := run(t, "kubectl_complete-klaxon", "report", "--by", "")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.HasPrefix(out, "severity\nservice\n:4\n") {
			t.Errorf("kubectl_complete-klaxon report --by '' = %q", out)
		}
	})
	t.Run("errors are kubectl's: error: on stderr, exit code 1", func(t *testing.T) {
		out, err := run(t, "kubectl-klaxon", "declare", "Disk full", "--severity", "P1")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("err = %v, want exit code 1", err)
		}
		if want := "error: unknown severity \"P1\": use one of SEV1, SEV2, SEV3, SEV4\n"; out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
	})
}
