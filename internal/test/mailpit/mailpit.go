// Package mailpit runs mailpit, a real SMTP server with an HTTP API to read
// what arrived, for tests. hack/mailpit.sh installs it; `make test` passes
// its directory in KLAXON_MAILPIT_DIR.
package mailpit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

var (
	mailpitOnce sync.Once
	mailpitBin  string
	mailpitErr  error
)

// Binary finds mailpit: in KLAXON_MAILPIT_DIR, or else by running
// hack/mailpit.sh, which installs it once into a cache. It never skips.
func Binary(t testing.TB) string {
	t.Helper()
	mailpitOnce.Do(func() {
		dir := os.Getenv("KLAXON_MAILPIT_DIR")
		if dir == "" {
			_, file, _, _ := runtime.Caller(0)
			root := filepath.Join(filepath.Dir(file), "..", "..", "..")
			cmd := exec.Command(filepath.Join(root, "hack", "mailpit.sh"))
			cmd.Dir = root
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				mailpitErr = fmt.Errorf("KLAXON_MAILPIT_DIR is not set and hack/mailpit.sh failed (run `make mailpit`): %w", err)
				return
			}
			dir = strings.TrimSpace(string(out))
		}
		mailpitBin = filepath.Join(dir, "mailpit")
		if _, err := os.Stat(mailpitBin); err != nil {
			mailpitErr = fmt.Errorf("mailpit is not in %s (run `make mailpit`): %w", dir, err)
		}
	})
	if mailpitErr != nil {
		t.Fatal(mailpitErr)
	}
	return mailpitBin
}

// Server is a running mailpit.
type Server struct {
	// SMTP is its SMTP address, host:port.
	SMTP string
	// API is the base URL of its HTTP API.
	API string
	out *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort returns a local port nothing listens on, for a moment.
func freePort(t testing.TB) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(proc.FreeAddr(t))
	return port
}

// Start runs mailpit on free local ports with extra flags and waits
// until both its SMTP server and its API answer. A port taken in between
// is retried with others.
func Start(t testing.TB, flags ...string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir() // removed after the process is stopped
	var lastErr error
	for attempt := range 3 {
		mp := &Server{SMTP: "127.0.0.1:" + freePort(t), out: &lockedBuffer{}}
		apiAddr := "127.0.0.1:" + freePort(t)
		mp.API = "http://" + apiAddr
		args := append([]string{
			"--smtp", mp.SMTP, "--listen", apiAddr,
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
			"--disable-version-check", "--smtp-disable-rdns",
		}, flags...)
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = mp.out, mp.out
		// Pdeathsig ends it should the test binary be killed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting mailpit: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if lastErr = mp.waitReady(exited); lastErr == nil {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("mailpit output:\n%s", mp.out)
				}
			})
			return mp
		}
		stop()
	}
	t.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func (mp *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.After(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("mailpit exited:\n%s", mp.out)
		case <-deadline:
			return fmt.Errorf("mailpit is not ready after 15s:\n%s", mp.out)
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get(mp.API + "/readyz")
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		conn, err := net.DialTimeout("tcp", mp.SMTP, time.Second)
		if err != nil {
			continue
		}
		_ = conn.Close()
		return nil
	}
}

// Address is an address in mailpit's API.
type Address struct {
	Name, Address string
}

// Message is a message as mailpit's API returns it.
type Message struct {
	ID      string
	From    Address
	To      []Address
	Subject string
	Text    string
	// Created is when mailpit received it.
	Created time.Time
}

// Get decodes the JSON answer of a GET of path from mailpit's API into v.
func (mp *Server) Get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(mp.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err = json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// Messages returns the summaries of the messages mailpit holds.
func (mp *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Total    int
		Messages []Message
	}
	mp.Get(t, "/api/v1/messages", &list)
	return list.Messages
}

// All returns the summaries of every message mailpit holds, up to 10,000
// (Messages returns the latest 50).
func (mp *Server) All(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Total    int
		Messages []Message
	}
	// A message stored while the page is read shows in Total only: read
	// again then.
	for range 5 {
		mp.Get(t, "/api/v1/messages?limit=10000", &list)
		if list.Total <= len(list.Messages) || len(list.Messages) == 10000 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if list.Total > len(list.Messages) {
		t.Fatalf("mailpit holds %d messages, more than one page of %d", list.Total, len(list.Messages))
	}
	return list.Messages
}

// Only returns the one message mailpit holds, in full, and its headers.
func (mp *Server) Only(t testing.TB) (Message, map[string][]string) {
	t.Helper()
	list := mp.Messages(t)
	if len(list) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(list))
	}
	var msg Message
	mp.Get(t, "/api/v1/message/"+list[0].ID, &msg)
	var headers map[string][]string
	mp.Get(t, "/api/v1/message/"+list[0].ID+"/headers", &headers)
	return msg, headers
}
