package proc

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFreeAddrsAreDistinctAndFree(t *testing.T) {
	addrs, err := FreeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, addr := range addrs {
		if seen[addr] {
			t.Fatalf("FreeAddrs(3) = %v: %s twice", addrs, addr)
		}
		seen[addr] = true
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		_ = ln.Close()
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	log := "one\n" + `{"msg":"two","stacktrace":"goroutine 1"}` + "\n" + strings.Repeat("x", 500) + "\n"
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	want := `{"msg":"two"}` + "\n" + strings.Repeat("x", 400) + "…"
	if got := LogTail(path, 2); got != want {
		t.Errorf("LogTail = %q, want %q", got, want)
	}
	if got := LogTail(filepath.Join(t.TempDir(), "missing"), 2); got != "" {
		t.Errorf("LogTail of a missing file = %q, want none", got)
	}
}

func TestProcessRSS(t *testing.T) {
	current, peak, err := processRSS("self", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if current <= 0 || peak < current {
		t.Errorf("RSS = %d, peak %d: want 0 < RSS <= peak", current, peak)
	}
}
