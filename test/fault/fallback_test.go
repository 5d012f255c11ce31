package fault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// fallbackTo is where the guide's fallback block mails.
const fallbackTo = "oncall@example.com"

// fallbackMessage is one fallback mail: its subject is the message, its
// text also names the waiting groups.
type fallbackMessage struct {
	at            time.Time
	subject, text string
}

// fallbackBlock is the reliability guide's fallback block, mailing to
// mail, which speaks no TLS.
func fallbackBlock(t *testing.T, mail *mailpit.Server) string {
	t.Helper()
	return strings.NewReplacer(
		"smarthost: mail.example.com:587", "smarthost: '"+mail.SMTP+"'\n  require_tls: false",
	).Replace(docsnippet.Block(t, "docs/reliability.md", "fallback-mail"))
}

// fallbackMails returns the fallback mails whose subject holds substr.
func fallbackMails(t *testing.T, mail *mailpit.Server, substr string) []fallbackMessage {
	t.Helper()
	var out []fallbackMessage
	for _, m := range mail.All(t) {
		if len(m.To) != 1 || m.To[0].Address != fallbackTo || !strings.Contains(m.Subject, substr) {
			continue
		}
		var full mailpit.Message
		mail.Get(t, "/api/v1/message/"+m.ID, &full)
		out = append(out, fallbackMessage{at: m.Created, subject: m.Subject, text: strings.ReplaceAll(full.Text, "\r\n", "\n")})
	}
	return out
}

// fallbackFile writes a receiver block sending to the sink.
func fallbackFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fallback.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fallbackConfigured waits until the operator's metrics endpoint, which
// may start serving a moment after its probes, says want for
// klaxon_fallback_configured.
func fallbackConfigured(t *testing.T, op *operator, want float64) {
	t.Helper()
	eventually(t, fmt.Sprintf("klaxon_fallback_configured to be %v", want), 10*time.Second, func(context.Context) (bool, error) {
		got, err := op.Metric("klaxon_fallback_configured")
		return err == nil && got == want, nil
	})
}

const (
	outageSummary    = "Klaxon cannot reach the Kubernetes API server since"
	recoveredSummary = "API server reachable again; paging resumed"
)

// TestFallbackPage stops kube-apiserver for 90 s while Alertmanager
// delivers three new groups, with --fallback-after=20s: the fallback block
// gets exactly one outage message naming the three groups, one message
// when the API server is back, and each group is then paged once as
// usual.
func TestFallbackPage(t *testing.T) {
	const outage = 90 * time.Second
	fail := repeatFailures(t)
	mail := mailpit.Start(t)
	tm := newTeam(t, mail, level{person: "alice"})
	// As shipped, with leader election: the operator loses its lease in
	// the outage, and keeps its process, receiver and fallback.
	op := startOperator(t, "fallback", "--watch-namespaces="+tm.ns, "--leader-elect",
		"--leader-election-namespace="+localcluster.OperatorNamespace,
		"--fallback-receiver-file="+fallbackFile(t, fallbackBlock(t, mail)), "--fallback-after=20s")
	fallbackConfigured(t, op, 1)
	tm.createRoute(t)
	ams := startAlertmanagers(t, op.receiverURL+tm.webhook())

	// A group before the outage: its page also reads the route's token,
	// which the receiver then knows as last read.
	postAlerts(t, ams, firing("FallbackBefore"))
	eventually(t, "the group before the outage to be mailed", time.Minute, func(context.Context) (bool, error) {
		return len(tm.mails(t)["FallbackBefore alice"]) == 1, nil
	})
	// And recorded as sent: a mail whose record the outage cut off is sent
	// again after it, as delivery is at least once, and the count below
	// would see it twice.
	eventually(t, "the mail before the outage to be recorded", time.Minute, func(ctx context.Context) (bool, error) {
		items, err := tm.incidents(ctx)
		return err == nil && len(items) == 1 && len(items[0].Status.Notifications) > 0 && allSent(&items[0]), err
	})

	down := time.Now()
	if err := cluster.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	waiting := []string{"FallbackOne", "FallbackTwo", "FallbackThree"}
	for _, name := range waiting {
		postAlerts(t, ams, firing(name))
	}
	time.Sleep(time.Until(down.Add(outage)))
	during := fallbackMails(t, mail, outageSummary)
	up := time.Now()
	apiServerRestarts = append(apiServerRestarts, up)
	if err := cluster.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver was down from %s to %s", down.Format("15:04:05.000"), up.Format("15:04:05.000"))

	if len(during) != 1 {
		fail.Errorf("%d outage messages during the outage, want 1: %+v", len(during), during)
	}
	for _, m := range during {
		if !strings.Contains(m.subject, "3 alert groups are waiting") {
			fail.Errorf("the outage message says %q, want 3 groups waiting", m.subject)
		}
		for _, name := range waiting {
			if !strings.Contains(m.text, "- "+name+"\n") {
				fail.Errorf("the outage message does not name %s: %q", name, m.text)
			}
		}
		if d := m.at.Sub(down); d < 20*time.Second || d > 40*time.Second {
			fail.Errorf("the outage message came %s after kube-apiserver stopped, want 20 s (--fallback-after) and a probe or two", d)
		}
	}

	eventually(t, "every waiting group to be mailed and the fallback to say the API server is back", 2*time.Minute, func(context.Context) (bool, error) {
		mails := tm.mails(t)
		for _, name := range waiting {
			if len(mails[name+" alice"]) == 0 {
				return false, nil
			}
		}
		return len(fallbackMails(t, mail, recoveredSummary)) > 0, nil
	})
	time.Sleep(3 * time.Second) // a second copy of anything would have arrived by now
	mails := tm.mails(t)
	for _, name := range append([]string{"FallbackBefore"}, waiting...) {
		if got := len(mails[name+" alice"]); got != 1 {
			fail.Errorf("%s mailed alice %d times, want once", name, got)
		}
	}
	if got := fallbackMails(t, mail, outageSummary); len(got) != 1 {
		fail.Errorf("%d outage messages in all, want 1", len(got))
	}
	if got := fallbackMails(t, mail, recoveredSummary); len(got) != 1 {
		fail.Errorf("%d messages that the API server is back, want 1", len(got))
	}
	for _, c := range []struct {
		message string
		want    float64
	}{{"outage", 1}, {"recovered", 1}} {
		if got := op.metric("klaxon_fallback_pages_total", `message="`+c.message+`"`, `result="sent"`); got != c.want {
			fail.Errorf("klaxon_fallback_pages_total{message=%q,result=\"sent\"} = %v, want %v", c.message, got, c.want)
		}
	}
}

// TestFallbackFileUnusable starts the operator with a fallback file that
// is missing, one it cannot read, and one that is not a receiver block:
// each time it starts, says why in its log, and klaxon_fallback_configured
// is 0.
func TestFallbackFileUnusable(t *testing.T) {
	for name, tc := range map[string]struct {
		path func(t *testing.T) string
		log  string
	}{
		"missing": {
			path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.yaml") },
			log:  "absent.yaml does not exist",
		},
		"unreadable": {
			// A directory: the operator runs as root here, so no file
			// mode keeps it from reading a file.
			path: func(t *testing.T) string { return t.TempDir() },
			log:  "cannot be read",
		},
		"invalid": {
			path: func(t *testing.T) string {
				return fallbackFile(t, "webhook_configs: [{url: 'http://127.0.0.1:1/', http_config: {proxy_url: 'http://p.invalid:3128'}}]\n")
			},
			log: "is not a valid Alertmanager receiver block",
		},
	} {
		t.Run(name, func(t *testing.T) {
			op := startOperator(t, "fallback-"+name, "--watch-namespaces="+localcluster.OperatorNamespace, "--fallback-receiver-file="+tc.path(t))
			fallbackConfigured(t, op, 0)
			log := proc.LogTail(op.LogPath(), 200)
			if !strings.Contains(log, "Running without a fallback page") || !strings.Contains(log, tc.log) {
				t.Errorf("the log does not say %q:\n%s", tc.log, log)
			}
		})
	}
}

// TestFallbackPageTwoReplicas is TestFallbackPage with two replicas under
// leader election, Alertmanager sending to both: still one outage
// message, from the leader, the other replica handing its groups over.
func TestFallbackPageTwoReplicas(t *testing.T) {
	const outage = 60 * time.Second
	mail := mailpit.Start(t)
	tm := newTeam(t, mail, level{person: "alice"})
	file := fallbackFile(t, fallbackBlock(t, mail))
	var ops []*operator
	for _, name := range []string{"fallback-a", "fallback-b"} {
		ops = append(ops, startOperator(t, name, "--watch-namespaces="+tm.ns, "--leader-elect",
			"--leader-election-namespace="+localcluster.OperatorNamespace,
			"--fallback-receiver-file="+file, "--fallback-after=20s"))
	}
	tm.createRoute(t)
	ams := startAlertmanagers(t, ops[0].receiverURL+tm.webhook(), ops[1].receiverURL+tm.webhook())
	// A group through each replica before the outage: each then knows
	// the route's token as last read, which the count needs.
	postAlerts(t, ams[:1], firing("TwoBeforeA"))
	postAlerts(t, ams[1:], firing("TwoBeforeB"))
	eventually(t, "the groups before the outage to be mailed", time.Minute, func(context.Context) (bool, error) {
		mails := tm.mails(t)
		return len(mails["TwoBeforeA alice"]) == 1 && len(mails["TwoBeforeB alice"]) == 1, nil
	})
	down := time.Now()
	if err := cluster.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	postAlerts(t, ams[:1], firing("TwoOne"))
	postAlerts(t, ams[1:], firing("TwoTwo"))
	time.Sleep(time.Until(down.Add(outage)))
	apiServerRestarts = append(apiServerRestarts, time.Now())
	if err := cluster.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fallback to say the API server is back", time.Minute, func(context.Context) (bool, error) {
		return len(fallbackMails(t, mail, recoveredSummary)) > 0, nil
	})
	time.Sleep(3 * time.Second)
	during := fallbackMails(t, mail, outageSummary)
	if len(during) != 1 || !strings.Contains(during[0].subject, "2 alert groups are waiting") {
		t.Errorf("outage messages %+v, want one counting both replicas' groups", during)
	}
	if got := fallbackMails(t, mail, recoveredSummary); len(got) != 1 {
		t.Errorf("%d messages that the API server is back, want 1", len(got))
	}
	// The leader sent both messages; the follower sent nothing, and
	// handed its group over.
	var sent []float64
	for _, op := range ops {
		sent = append(sent, op.metric("klaxon_fallback_pages_total"))
	}
	leader, follower := ops[0], ops[1]
	if sent[0] == 0 {
		leader, follower = ops[1], ops[0]
	}
	if got := follower.metric("klaxon_fallback_pages_total"); got != 0 || sent[0]+sent[1] != 2 {
		t.Errorf("klaxon_fallback_pages_total is %v on one replica and %v on the other, want 2 on the leader and 0 on the follower", sent[0], sent[1])
	}
	if got := leader.metric("klaxon_fallback_pages_total", `result="sent"`); got != 2 {
		t.Errorf("the leader sent %v fallback messages, want 2", got)
	}
	if got := follower.metric("klaxon_fallback_forwards_total", `result="delivered"`); got < 1 {
		t.Errorf("the follower delivered %v forwards to the leader, want at least 1", got)
	}
}
