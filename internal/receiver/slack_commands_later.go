package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// A command is done behind the request as long as Slack waits for its
// answer, then behind a "Working on it…" answer, and its outcome follows at
// the command's response_url.
const (
	// commandWait is how long after a command arrived its outcome is
	// waited for before Slack is answered "Working on it…": Slack shows an
	// error past 3 seconds.
	commandWait = 2 * time.Second
	// commandRunTimeout bounds a command, answered directly or later.
	commandRunTimeout = 15 * time.Second
	// commandPostTimeout bounds the POST of an outcome to response_url.
	commandPostTimeout = 10 * time.Second
	// maxCommandsRunning bounds the commands being done at once.
	maxCommandsRunning = 16
	// maxResponseURLBytes bounds a response_url; Slack's are about 100.
	maxResponseURLBytes = 2048
	// workingOnIt answers a command not done within commandWait.
	workingOnIt = "Working on it…"
)

// commandSettings are what tests change of the above: 0 or false is the
// default.
var commandSettings struct {
	// wait replaces commandWait.
	wait atomic.Int64
	// slots replaces maxCommandsRunning.
	slots atomic.Int32
	// plainHTTP lets a response_url be http, on any host: a local
	// stand-in for Slack.
	plainHTTP atomic.Bool
}

// commandRunner is the state of the commands being done.
type commandRunner struct {
	running atomic.Int32
	mu      sync.Mutex
	// serving maps each HTTP server the commands came through to a context
	// that ends when it shuts down.
	serving map[*http.Server]context.Context
}

// commandWaitFor is commandWait, or what a test set instead.
func commandWaitFor() time.Duration {
	if d := commandSettings.wait.Load(); d > 0 {
		return time.Duration(d)
	}
	return commandWait
}

// runOrDefer does the command and answers its outcome or, when the command
// is not done before waited (the request's context, bounded by the wait)
// ends, answers "Working on it…" and posts the outcome to responseURL once
// it is. Either way the command runs on a context of its own, which the
// server's shutdown ends, not the request's.
func (sc *slackCommands) runOrDefer(waited context.Context, responseURL string, do func(context.Context) commandAnswer) commandAnswer {
	slots := int32(maxCommandsRunning)
	if n := commandSettings.slots.Load(); n > 0 {
		slots = n
	}
	if sc.runner.running.Add(1) > slots {
		sc.runner.running.Add(-1)
		return commandAnswer{code: http.StatusOK, text: "Klaxon is busy with many commands right now. Nothing was changed; try again in a moment.",
			cause: fmt.Errorf("%d commands are running, the most at once", slots)}
	}
	base := sc.serverContext(waited)
	done := make(chan commandAnswer)
	late := make(chan struct{})
	go func() {
		defer sc.runner.running.Add(-1)
		ctx, cancel := context.WithTimeout(base, commandRunTimeout)
		a := do(ctx)
		cancel()
		select {
		case done <- a:
			return
		case <-late:
		}
		ctx, cancel = context.WithTimeout(base, commandPostTimeout)
		defer cancel()
		sc.answerLater(ctx, responseURL, a)
	}()
	select {
	case a := <-done:
		return a
	case <-waited.Done():
	}
	close(late)
	return ephemeral(workingOnIt)
}

// answerLater posts a command's outcome to its response_url, as Slack
// documents: JSON, in the channel or to the caller only, beside the
// "Working on it…" answer rather than in its place. A failure is logged:
// the caller has nobody else to hear it from, and the URL is not logged,
// being the capability to post in the channel.
func (sc *slackCommands) answerLater(ctx context.Context, responseURL string, a commandAnswer) {
	text := bounded.Runes(a.text, maxCommandAnswerChars)
	kind := "ephemeral"
	if a.inChannel {
		kind = "in_channel"
	}
	body, err := notify.EncodeJSON(map[string]any{"response_type": kind, "replace_original": false, "text": text})
	if err == nil {
		var code int
		var answer []byte
		code, answer, err = notify.Post(ctx, notify.HTTPClient(sc.opts.Egress), responseURL,
			http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body)
		if err == nil && (code < 200 || code > 299) {
			err = notify.AnswerError(fmt.Sprintf("Slack answered HTTP %d", code), code, answer)
		}
	}
	if err != nil {
		sc.log.Error(err, "Could not post the outcome of a Slack command to its response_url",
			"namespace", a.namespace, "responder", a.responder, "outcome", text)
		return
	}
	sc.logAnswer(a, text, true)
}

// serverContext is a context, without the request's end, that ends when
// the HTTP server serving the request of ctx shuts down, as the receiver's
// does when its context ends.
func (sc *slackCommands) serverContext(ctx context.Context) context.Context {
	srv, ok := ctx.Value(http.ServerContextKey).(*http.Server)
	if !ok {
		// Served without a server: the commands' own timeouts end them.
		return context.Background()
	}
	sc.runner.mu.Lock()
	defer sc.runner.mu.Unlock()
	if served, ok := sc.runner.serving[srv]; ok {
		return served
	}
	if sc.runner.serving == nil {
		sc.runner.serving = map[*http.Server]context.Context{}
	}
	// Not derived from the request's context, which would keep that
	// request's state for as long as the server serves.
	served, cancel := context.WithCancel(context.Background())
	srv.RegisterOnShutdown(cancel)
	sc.runner.serving[srv] = served
	return served
}

// checkResponseURL checks the response_url of a command: https on one of
// Slack's hosts for them (or, when plainHTTP, http or https on any host),
// without credentials. The request is verified, so the URL should be
// Slack's; the check keeps a leaked signing secret from aiming the
// receiver anywhere else. The errors never quote the URL.
func checkResponseURL(raw string, plainHTTP bool) error {
	if raw == "" {
		return errors.New("the command has no response_url")
	}
	if len(raw) > maxResponseURLBytes {
		return fmt.Errorf("the response_url is %d bytes long; at most %d", len(raw), maxResponseURLBytes)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("the response_url cannot be parsed")
	case u.Scheme != "https" && (u.Scheme != "http" || !plainHTTP):
		return fmt.Errorf("the response_url uses %q, not https", bounded.Bytes(u.Scheme, 16))
	case u.Host == "" || u.User != nil:
		return errors.New("the response_url needs a host and no credentials")
	case !plainHTTP && !slackResponseHosts[u.Host]:
		return errors.New("the response_url is not on Slack's hooks.slack.com")
	}
	return nil
}

// slackResponseHosts are where Slack's response_urls point: Slack's, and
// GovSlack's.
var slackResponseHosts = map[string]bool{"hooks.slack.com": true, "hooks.slack-gov.com": true}

// responseURL is the command's response_url, checked.
func (sc *slackCommands) responseURL(form url.Values) (string, error) {
	raw := form.Get("response_url")
	return raw, checkResponseURL(raw, commandSettings.plainHTTP.Load())
}
