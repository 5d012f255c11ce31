package fallback

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

// recordingSender keeps the titles of the messages sent through it.
type recordingSender struct {
	mu     sync.Mutex
	titles []string
}

func (s *recordingSender) Send(_ context.Context, m *notify.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.titles = append(s.titles, m.Incident.Title)
	return "", nil
}

func (s *recordingSender) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.titles...)
}

var loopback = egress.New(egress.Config{Allow: []egress.Rule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}}})

// replica is a Pager whose API server is up or down at the test's word.
type replica struct {
	*Pager
	sender *recordingSender
	down   bool
	mu     sync.Mutex
}

func newReplica(t *testing.T, clk *testingclock.FakeClock, key []byte, leader func() (string, bool)) *replica {
	t.Helper()
	r := &replica{sender: &recordingSender{}}
	p, err := NewPager(Config{
		Block: &Block{Sender: r.sender, Key: key},
		Probe: func(context.Context) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.down {
				return errors.New("connection refused")
			}
			return nil
		},
		Leader: leader, After: 20 * time.Second, Repeat: time.Hour, Egress: loopback, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Pager = p
	return r
}

func (r *replica) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// Two replicas through an outage: the follower hands its groups to the
// leader, which sends one outage message counting both replicas' groups,
// and one message when the API server is back; the follower sends nothing.
func TestPagersAgreeOnOneSender(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	leader := newReplica(t, clk, key, nil)
	srv := httptest.NewServer(leader.Pager)
	t.Cleanup(srv.Close)
	peer := strings.TrimPrefix(srv.URL, "http://")
	follower := newReplica(t, clk, key, func() (string, bool) { return peer, false })

	ctx := t.Context()
	both := func() { leader.step(ctx); follower.step(ctx) }
	both()
	leader.setDown(true)
	follower.setDown(true)
	for range 3 {
		clk.Step(2 * time.Second)
		both()
	}
	leader.Waiting("ns/r/a", "Disk full")
	follower.Waiting("ns/r/b", "Queue stuck")
	follower.Waiting("ns/r/a", "Disk full")
	for range 15 {
		clk.Step(2 * time.Second)
		both()
	}
	want := "Klaxon cannot reach the Kubernetes API server since 2026-12-07T12:00:02Z; 2 alert groups are waiting"
	if got := leader.sender.sent(); len(got) != 1 || got[0] != want {
		t.Fatalf("the leader sent %q, want one %q", got, want)
	}
	if got := follower.sender.sent(); len(got) != 0 {
		t.Fatalf("the follower sent %q", got)
	}
	leader.setDown(false)
	follower.setDown(false)
	for range RecoverAfter/(2*time.Second) + 2 {
		clk.Step(2 * time.Second)
		both()
	}
	if got := leader.sender.sent(); len(got) != 2 || got[1] != "API server reachable again; paging resumed" {
		t.Fatalf("the leader sent %q, want the outage and then the recovery", got)
	}
	if got := follower.sender.sent(); len(got) != 0 {
		t.Fatalf("the follower sent %q", got)
	}
}

// A follower whose leader does not answer sends itself.
func TestFollowerSendsWhenTheLeaderIsGone(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	srv := httptest.NewServer(http.NotFoundHandler())
	peer := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	f := newReplica(t, clk, []byte("k"), func() (string, bool) { return peer, false })
	var logMu sync.Mutex
	var lines []string
	f.log = funcr.New(func(_, args string) {
		logMu.Lock()
		defer logMu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	failed := testutil.ToFloat64(Forwards.WithLabelValues(ForwardFailed))
	f.step(t.Context())
	f.setDown(true)
	clk.Step(time.Second)
	f.Waiting("ns/r/a", "Disk full")
	for range 16 {
		clk.Step(2 * time.Second)
		f.step(t.Context())
	}
	if got := f.sender.sent(); len(got) != 1 || !strings.Contains(got[0], "1 alert group is waiting") {
		t.Fatalf("sent %q, want one outage message", got)
	}
	if got := testutil.ToFloat64(Forwards.WithLabelValues(ForwardFailed)) - failed; got != 16 {
		t.Errorf("klaxon_fallback_forwards_total{result=failed} rose by %v, want 16", got)
	}
	if got := testutil.ToFloat64(WaitingGroups); got != 1 {
		t.Errorf("klaxon_fallback_waiting_groups = %v, want 1", got)
	}
	logMu.Lock()
	defer logMu.Unlock()
	n := 0
	for _, l := range lines {
		if strings.Contains(l, "Could not hand the waiting groups") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the failed forwards were logged %d times, want once: %q", n, lines)
	}
}

func TestWaitingSurface(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	p := newReplica(t, clk, key, nil)
	body := `{"groups":[{"key":"ns/r/a","title":"A"}]}`
	ts := strconv.FormatInt(t0.Unix(), 10)
	for name, tc := range map[string]struct {
		method, ts, sig, body string
		want                  int
	}{
		"signed":      {http.MethodPost, ts, sign(key, t0.Unix(), []byte(body)), body, http.StatusNoContent},
		"unsigned":    {http.MethodPost, ts, "", body, http.StatusUnauthorized},
		"another key": {http.MethodPost, ts, sign([]byte("guess"), t0.Unix(), []byte(body)), body, http.StatusUnauthorized},
		"stale":       {http.MethodPost, strconv.FormatInt(t0.Unix()-61, 10), sign(key, t0.Unix()-61, []byte(body)), body, http.StatusUnauthorized},
		"oversized":   {http.MethodPost, ts, "", strings.Repeat("x", MaxForwardBytes+1), http.StatusRequestEntityTooLarge},
		"not JSON":    {http.MethodPost, ts, sign(key, t0.Unix(), []byte("{")), "{", http.StatusBadRequest},
		"not a POST":  {http.MethodGet, ts, "", "", http.StatusMethodNotAllowed},
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, WaitingPath, strings.NewReader(tc.body))
			req.Header.Set(timestampHeader, tc.ts)
			req.Header.Set(signatureHeader, tc.sig)
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("answered %d (%s), want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.t.groups) != 1 || p.t.groups["ns/r/a"].title != "A" {
		t.Errorf("groups %v; want the signed one alone", p.t.groups)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	valid := write("valid.yaml", "webhook_configs: [{url: 'http://127.0.0.1:1/hook'}]\n")
	for name, tc := range map[string]struct {
		path, want string
	}{
		"valid": {path: valid},
		"mail":  {path: write("mail.yaml", "email_configs: [{to: oncall@example.com, from: klaxon@example.com, smarthost: 'mail.example.com:587'}]\n")},
		"mail reading a file": {path: write("mailfile.yaml", "email_configs: [{to: a@example.com, from: b@example.com, smarthost: 'mail.example.com:587', auth_username: u, auth_password_file: /etc/hostname}]\n"),
			want: "auth_password_file reads a file"},
		"missing":     {path: filepath.Join(dir, "nope.yaml"), want: "the fallback receiver file " + dir + "/nope.yaml does not exist"},
		"a directory": {path: dir, want: "cannot be read"},
		"invalid":     {path: write("bad.yaml", "{"), want: "is not a valid Alertmanager receiver block: the receiver block is not valid YAML"},
		"refused":     {path: write("proxy.yaml", "webhook_configs: [{url: 'http://x.invalid/', http_config: {proxy_url: 'http://p.invalid:3128'}}]"), want: "proxy_url is refused"},
		"empty":       {path: write("empty.yaml", ""), want: "the receiver block is empty"},
		"too large":   {path: write("large.yaml", strings.Repeat("#", 64<<10+1)), want: "is larger than the 65536 bytes allowed"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Load(tc.path, loopback, "", nil)
			if tc.want == "" {
				if err != nil || b == nil || len(b.Key) != 32 {
					t.Fatalf("Load = %v, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Load = %v; want an error naming the file with %q", err, tc.want)
			}
		})
	}
}

// The largest body a follower sends (MaxGroups groups of the longest keys
// and titles, full of what JSON escapes and of invalid UTF-8) fits in
// MaxForwardBytes, and the leader takes it whole.
func TestLargestForwardFits(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	follower := newReplica(t, clk, key, nil)
	nasty := `"\<>&` + "\xff\xfe\x01\x7f\u2028é"
	for i := range MaxGroups {
		follower.Waiting(strconv.Itoa(i)+strings.Repeat(nasty, MaxKeyBytes), strings.Repeat(nasty, MaxTitleBytes))
	}
	follower.mu.Lock()
	groups := follower.t.waiting()
	follower.mu.Unlock()
	if len(groups) != MaxGroups {
		t.Fatalf("%d groups waiting, want %d", len(groups), MaxGroups)
	}
	for _, g := range groups {
		if !utf8.ValidString(g.Key) || !utf8.ValidString(g.Title) || len(g.Key) > MaxKeyBytes || len(g.Key) < MaxKeyBytes-4 {
			t.Fatalf("group kept as %q (%d bytes), %q", g.Key, len(g.Key), g.Title)
		}
	}
	body, err := encodeGroups(groups)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > maxForwardBody || maxForwardBody > MaxForwardBytes {
		t.Fatalf("the body is %d bytes; the bound %d, the limit %d", len(body), maxForwardBody, MaxForwardBytes)
	}
	t.Logf("the largest body: %d bytes of %d", len(body), MaxForwardBytes)

	leader := newReplica(t, clk, key, nil)
	req := httptest.NewRequest(http.MethodPost, WaitingPath, bytes.NewReader(body))
	Sign(req, key, body, clk.Now())
	rec := httptest.NewRecorder()
	leader.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("the leader answered %d (%s)", rec.Code, rec.Body)
	}
	leader.mu.Lock()
	defer leader.mu.Unlock()
	if got := leader.t.waiting(); len(got) != MaxGroups || got[0] != groups[0] {
		t.Fatalf("the leader holds %d groups, want the %d forwarded as they were", len(got), MaxGroups)
	}
}

// Two slow bodies hold both read slots for a forward's time at most; a
// signed forward meanwhile is told the leader is busy, which is no failure
// of the leader; requests whose headers cannot be signed take no slot.
func TestSlowBodiesHoldTheSlotsBriefly(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	leader := newReplica(t, clk, key, nil)
	srv := httptest.NewServer(leader.Pager)
	t.Cleanup(srv.Close)
	peer := strings.TrimPrefix(srv.URL, "http://")
	follower := newReplica(t, clk, key, func() (string, bool) { return peer, false })

	ts := strconv.FormatInt(t0.Unix(), 10)
	for range maxForwardReads {
		conn, err := net.Dial("tcp", peer)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: leader\r\nContent-Length: 1000\r\n%s: %s\r\n%s: %s\r\n\r\n{",
			WaitingPath, timestampHeader, ts, signatureHeader, strings.Repeat("ab", sha256.Size))
		if err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(leader.reads) < maxForwardReads; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow bodies did not take the read slots")
		}
	}
	started := time.Now()
	groups := []Group{{Key: "ns/r/a", Title: "A"}}
	if err := follower.forward(t.Context(), peer, groups); !errors.Is(err, errLeaderBusy) {
		t.Fatalf("forward while the slots are held = %v, want the leader busy", err)
	}
	resp, err := http.Post(srv.URL+WaitingPath, "application/json", strings.NewReader(`{"groups":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned request while the slots are held: %d, want 401", resp.StatusCode)
	}
	for follower.forward(t.Context(), peer, groups) != nil {
		if time.Since(started) > forwardTimeout+3*time.Second {
			t.Fatal("the slow bodies still hold the slots after the forward timeout")
		}
		time.Sleep(100 * time.Millisecond)
	}
	leader.mu.Lock()
	defer leader.mu.Unlock()
	if _, ok := leader.t.groups["ns/r/a"]; !ok {
		t.Fatal("the leader does not hold the forwarded group")
	}
}

// Two replicas that each take the other for the leader are each told
// 409, and each sends itself: a second message rather than none.
func TestReplicasThatEachTakeTheOtherForTheLeader(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	var peerA, peerB string
	a := newReplica(t, clk, key, func() (string, bool) { return peerB, false })
	b := newReplica(t, clk, key, func() (string, bool) { return peerA, false })
	srvA, srvB := httptest.NewServer(a.Pager), httptest.NewServer(b.Pager)
	t.Cleanup(srvA.Close)
	t.Cleanup(srvB.Close)
	peerA, peerB = strings.TrimPrefix(srvA.URL, "http://"), strings.TrimPrefix(srvB.URL, "http://")

	body := []byte(`{"groups":[]}`)
	req := httptest.NewRequest(http.MethodPost, WaitingPath, bytes.NewReader(body))
	Sign(req, key, body, clk.Now())
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusConflict {
		t.Fatalf("a replica that is not the leader answered %d, want 409", rec.Code)
	}

	ctx := t.Context()
	both := func() { a.step(ctx); b.step(ctx) }
	both()
	a.setDown(true)
	b.setDown(true)
	clk.Step(time.Second)
	a.Waiting("ns/r/a", "A")
	b.Waiting("ns/r/b", "B")
	for range 20 {
		clk.Step(2 * time.Second)
		both()
	}
	if got, other := a.sender.sent(), b.sender.sent(); len(got) != 1 || len(other) != 1 {
		t.Fatalf("the replicas sent %q and %q, want one message each", got, other)
	}
}

// smtpStandIn listens for mail: its first connection is accepted and
// never answered, as a wedged smarthost; the later ones get just enough
// SMTP to take a message, counted in delivered.
func smtpStandIn(t *testing.T) (addr string, delivered func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	n := 0
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if first {
				continue
			}
			go func() {
				r := bufio.NewReader(c)
				reply := func(s string) { _, _ = fmt.Fprintf(c, "%s\r\n", s) }
				reply("220 stand-in")
				for data := false; ; {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if data {
						if line == ".\r\n" {
							data = false
							mu.Lock()
							n++
							mu.Unlock()
							reply("250 queued")
						}
						continue
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "DATA"):
						data = true
						reply("354 go on")
					case strings.HasPrefix(cmd, "QUIT"):
						reply("221 bye")
						return
					default:
						reply("250 ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// Alertmanager's email notifier has no deadline on the SMTP conversation:
// a send stuck on a smarthost that never answers does not stop the next.
func TestAWedgedSendDoesNotStopTheNext(t *testing.T) {
	addr, delivered := smtpStandIn(t)
	block, err := Parse("fallback.yaml", []byte("email_configs: [{to: oncall@example.com, from: klaxon@example.com, smarthost: '"+addr+"', require_tls: false}]\n"), loopback, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPager(Config{Block: block, Probe: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	m := outageMessage(t0, t0.Add(time.Minute), []Group{{Key: "k", Title: "Disk full"}}, false, 1)
	stuck, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if p.send(stuck, MessageOutage, m) {
		t.Fatal("the send to a smarthost that never answers succeeded")
	}
	ctx, cancel2 := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel2()
	if !p.send(ctx, MessageOutage, m) {
		t.Fatal("the send after a wedged one failed")
	}
	if got := delivered(); got != 1 {
		t.Fatalf("%d mails delivered, want 1", got)
	}
}

// The forwarding key is as secret as the file: a block without a
// credential gets one from a random comment line, which changes the key.
// The guide's block is the one checked.
func TestACommentChangesTheKey(t *testing.T) {
	guide := docsnippet.Block(t, "docs/reliability.md", "fallback-relay")
	comment, block, ok := strings.Cut(guide, "\n")
	if !ok || !strings.HasPrefix(comment, "#") {
		t.Fatalf("the guide's block %q does not start with a comment line", guide)
	}
	plain, err := Parse("fallback.yaml", []byte(block), egress.New(egress.Config{}), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	commented, err := Parse("fallback.yaml", []byte(guide), egress.New(egress.Config{}), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(plain.Key, commented.Key) {
		t.Fatal("a comment line does not change the forwarding key")
	}
}

// Forwards that fail now and then (at 62 s and 120 s) leave the sending
// to the leader: one message, from the leader.
func TestAForwardFailingOnceLeavesTheLeaderToSend(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	key := forwardingKey([]byte("block"))
	leader := newReplica(t, clk, key, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := clk.Since(t0); s == 62*time.Second || s == 120*time.Second {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		leader.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	peer := strings.TrimPrefix(srv.URL, "http://")
	follower := newReplica(t, clk, key, func() (string, bool) { return peer, false })
	failed := testutil.ToFloat64(Forwards.WithLabelValues(ForwardFailed))

	ctx := t.Context()
	leader.step(ctx)
	follower.step(ctx)
	leader.setDown(true)
	follower.setDown(true)
	for clk.Since(t0) < 200*time.Second {
		clk.Step(2 * time.Second)
		switch clk.Since(t0) {
		case 4 * time.Second, 62 * time.Second, 120 * time.Second:
			follower.Waiting(fmt.Sprintf("ns/r/%d", clk.Since(t0)/time.Second), "T")
		}
		leader.step(ctx)
		follower.step(ctx)
	}
	if got := testutil.ToFloat64(Forwards.WithLabelValues(ForwardFailed)) - failed; got != 2 {
		t.Fatalf("%v forwards failed, want the 2 at 62 s and 120 s", got)
	}
	if got := leader.sender.sent(); len(got) != 1 {
		t.Fatalf("the leader sent %q, want one message", got)
	}
	leader.mu.Lock()
	held := leader.t.waitingCount()
	leader.mu.Unlock()
	if held != 3 {
		t.Fatalf("the leader holds %d groups, want the follower's 3", held)
	}
	if got := follower.sender.sent(); len(got) != 0 {
		t.Fatalf("the follower sent %q", got)
	}
}
