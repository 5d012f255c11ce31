package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

const (
	// maxCommandBodyBytes bounds a slash command's form: its text is at
	// most maxCommandTextBytes, the other fields are IDs and a URL.
	maxCommandBodyBytes = 16 << 10
	// maxCommandChannels bounds the signing secrets a command is tried
	// with: a command names no namespace, so each Slack channel with a
	// signing secret is a candidate.
	maxCommandChannels = 64
	// maxCommandAnswerChars bounds what a command's answer quotes.
	maxCommandAnswerChars = 3000
	// maxUpdateChars is the CRD's bound of an update's message.
	maxUpdateChars = 2048
	// maxUpdates is the CRD's bound of an incident's updates.
	maxUpdates = 256
	// declaredPrefix starts the name of an incident declared from Slack,
	// as the kubectl plugin's declare names its own.
	declaredPrefix = "inc-"
)

// slackCommands serves POST /slack/commands: the /klaxon slash command,
// signed with the Slack app's signing secret like its interactions.
//
// Slack wants an answer within 3 seconds: a command done within
// commandWait is answered directly, a slower one "Working on it…" and its
// outcome is posted to the command's response_url (slack_commands_later.go).
type slackCommands struct {
	*Server
	runner commandRunner
}

// commandAnswer is the answer to one command.
type commandAnswer struct {
	code       int
	text       string
	inChannel  bool
	retryAfter int
	// cause is logged, never shown.
	cause error
	// namespace and responder are logged once the request verified.
	namespace, responder string
}

func (sc *slackCommands) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := sc.command(w, r)
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	text := bounded.Runes(a.text, maxCommandAnswerChars)
	if a.code == http.StatusOK {
		kind := "ephemeral"
		if a.inChannel {
			kind = "in_channel"
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(a.code)
		_ = json.NewEncoder(w).Encode(map[string]any{"response_type": kind, "text": text})
	} else {
		writeText(w, a.code, text)
	}
	sc.logAnswer(a, text, false)
}

// logAnswer logs the answer to a command, given directly or later at its
// response_url.
func (sc *slackCommands) logAnswer(a commandAnswer, text string, later bool) {
	switch {
	case a.code >= http.StatusInternalServerError && !later:
		sc.log.Error(a.cause, "Answered a Slack command with an error", "code", a.code)
	case a.responder != "":
		sc.log.Info("Answered a Slack command", "namespace", a.namespace, "responder", a.responder, "outcome", text,
			"error", a.cause, "atResponseURL", later)
	default:
		// Whatever an unverified caller sent is logged only at V(1).
		sc.log.V(1).Info("Answered a Slack command", "code", a.code, "message", text, "error", a.cause, "atResponseURL", later)
	}
}

// commandRequest is a verified command: the form, the channel whose
// signing secret verified it, and the Responder who sent it.
type commandRequest struct {
	form      url.Values
	cmd       slashCommand
	channel   *klaxonv1alpha1.NotificationChannel
	responder string
	// apps are the names of the channel's namespace's NotificationChannels
	// whose signing secret verified the command.
	apps []string
	// key is derived from the verified request (timestamp and body): a
	// replay of it has the same key, so what it creates has the same name
	// and is not created twice.
	key string
	// at is the request's timestamp.
	at time.Time
	ip string
}

func (sc *slackCommands) command(w http.ResponseWriter, r *http.Request) commandAnswer {
	// The wait runs from the command's arrival: Slack's 3 seconds include
	// the verification.
	waited, stopWaiting := context.WithTimeout(r.Context(), commandWaitFor())
	defer stopWaiting()
	q, rf := sc.readSlackRequest(w, r, maxCommandBodyBytes)
	if rf != nil {
		return refusedCommand(*rf)
	}
	form, err := url.ParseQuery(string(q.body))
	if err != nil {
		return refusedCommand(q.unverified(fmt.Errorf("the body is not a form: %w", err)))
	}
	user := form.Get("user_id")
	if !slackID(user) {
		return refusedCommand(q.unverified(errors.New("the command names no user")))
	}
	ctx, cancel := context.WithTimeout(r.Context(), min(sc.opts.APITimeout, slackAnswerTimeout))
	defer cancel()
	verified, at, rf := q.verify(ctx, sc.commandChannels)
	if rf != nil {
		return refusedCommand(*rf)
	}
	// Verified: from here on the request is Slack's, and the caller is
	// told about every outcome, in a 200 Slack shows.
	cmd, err := parseSlashCommand(form.Get("text"))
	if err != nil {
		return ephemeral(err.Error() + ".\n" + slashCommandUsage)
	}
	if cmd.verb == "help" {
		return ephemeral(slashCommandUsage)
	}
	responseURL, err := sc.responseURL(form)
	if err != nil {
		return commandAnswer{code: http.StatusOK, text: "Slack sent no address to answer this command at. Nothing was changed.", cause: err}
	}
	sum := sha256.Sum256([]byte("v0:" + q.ts + ":" + string(q.body)))
	req := &commandRequest{form: form, cmd: cmd, key: hex.EncodeToString(sum[:])[:16], at: at, ip: q.ip}
	return sc.runOrDefer(waited, responseURL, func(ctx context.Context) commandAnswer {
		a, ok := sc.caller(ctx, req, verified, user)
		if !ok {
			return a
		}
		a = sc.run(ctx, req)
		a.namespace, a.responder = req.channel.Namespace, req.responder
		return a
	})
}

// refusedCommand answers a command that is not taken.
func refusedCommand(rf slackRefusal) commandAnswer {
	return commandAnswer{code: rf.code, text: rf.text, retryAfter: rf.retryAfter, cause: rf.cause}
}

// commandChannels are the Slack NotificationChannels, in the watched
// namespaces, whose signing secret may verify a command: a command names
// no namespace, so each is a candidate.
func (sc *slackCommands) commandChannels(ctx context.Context) ([]*klaxonv1alpha1.NotificationChannel, error) {
	list := &klaxonv1alpha1.NotificationChannelList{}
	if err := sc.client.List(ctx, list); err != nil {
		return nil, apiTrouble{fmt.Errorf("listing the NotificationChannels: %w", err)}
	}
	var candidates []*klaxonv1alpha1.NotificationChannel
	for i := range list.Items {
		ch := &list.Items[i]
		if ch.Spec.Slack != nil && ch.Spec.Slack.SigningSecretRef != nil && sc.watches(ch.Namespace) {
			candidates = append(candidates, ch)
		}
	}
	if len(candidates) > maxCommandChannels {
		sc.log.Info("Too many Slack NotificationChannels with a signing secret to verify a command with; only the first are tried",
			"channels", len(candidates), "tried", maxCommandChannels)
		candidates = candidates[:maxCommandChannels]
	}
	return candidates, nil
}

// caller finds the channel and the Responder the command is from: of the
// channels that verified it (in the namespace --namespace names, if
// given), those where a Responder has the caller's Slack user as a
// contact. ok is false, with the answer to give, unless there is one.
func (sc *slackCommands) caller(ctx context.Context, req *commandRequest, verified []*klaxonv1alpha1.NotificationChannel, user string) (commandAnswer, bool) {
	type match struct {
		ch        *klaxonv1alpha1.NotificationChannel
		responder string
	}
	var matches []match
	var namespaces []string
	for _, ch := range verified {
		if req.cmd.namespace != "" && ch.Namespace != req.cmd.namespace {
			continue
		}
		names, err := sc.slackResponders(ctx, ch.Namespace, ch.Name, user)
		switch {
		case err != nil:
			return commandAnswer{code: http.StatusServiceUnavailable, text: "Klaxon could not reach the Kubernetes API server; try again", retryAfter: 5, cause: err}, false
		case len(names) > 1:
			return ephemeral(severalResponders(names)), false
		case len(names) == 0:
			continue
		}
		matches = append(matches, match{ch, names[0]})
		if !slices.Contains(namespaces, ch.Namespace) {
			namespaces = append(namespaces, ch.Namespace)
		}
	}
	switch {
	case len(matches) == 0:
		return ephemeral("You are not a responder: no Responder has your Slack user " + user +
			" as a contact on a Slack NotificationChannel of this app. Nothing was changed."), false
	case len(namespaces) > 1:
		slices.Sort(namespaces)
		return ephemeral("You are a responder in several namespaces (" + strings.Join(namespaces, ", ") +
			"): say which with --namespace <ns>. Nothing was changed."), false
	}
	req.channel, req.responder = matches[0].ch, matches[0].responder
	for _, ch := range verified {
		if ch.Namespace == req.channel.Namespace {
			req.apps = append(req.apps, ch.Name)
		}
	}
	return commandAnswer{}, true
}

// run does the command as the caller's Responder.
func (sc *slackCommands) run(ctx context.Context, req *commandRequest) commandAnswer {
	switch req.cmd.verb {
	case "declare":
		return sc.declare(ctx, req)
	case "ack":
		return sc.move(ctx, req, klaxonv1alpha1.StateAcknowledged)
	case "resolve":
		return sc.move(ctx, req, klaxonv1alpha1.StateResolved)
	case "update":
		return sc.update(ctx, req)
	case "oncall":
		return sc.oncall(ctx, req)
	case "cover":
		return sc.cover(ctx, req)
	}
	return ephemeral(slashCommandUsage)
}

// declare creates an Incident, Triggered, as `kubectl klaxon declare`
// does, with the caller's Responder as its actor. Its name comes from the
// request's key, so a replay finds it already declared.
func (sc *slackCommands) declare(ctx context.Context, req *commandRequest) commandAnswer {
	ns := req.channel.Namespace
	sev := klaxonv1alpha1.SeverityModerate
	if req.cmd.severity != "" {
		sev = klaxonv1alpha1.Severity(req.cmd.severity)
	}
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{
			Name: declaredPrefix + req.key[:10], Namespace: ns,
			// The actor policy exempts the operator's service account, so
			// the responder stands as the actor instead of the operator.
			Annotations: map[string]string{klaxonv1alpha1.ActorAnnotation: req.responder},
		},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:    req.cmd.text(0),
			Severity: sev,
			Service:  req.cmd.service,
			State:    klaxonv1alpha1.StateTriggered,
			// Whoever declares leads until someone takes over: the
			// incident's channel invites them, whoever else is paged.
			Commander: req.responder,
		},
	}
	err := sc.client.Create(ctx, inc)
	switch {
	case apierrors.IsAlreadyExists(err):
		return ephemeral("Incident " + inc.Name + " is already declared. Nothing was changed.")
	case err != nil:
		return writeFailed("declare the incident", err)
	}
	return commandAnswer{code: http.StatusOK, inChannel: true,
		text: fmt.Sprintf("%s declared incident %s/%s [%s] %s", req.responder, ns, inc.Name, sev, inc.Spec.Title)}
}

// move acknowledges or resolves the command's incident as the caller, as
// acknowledge links and Slack buttons do.
func (sc *slackCommands) move(ctx context.Context, req *commandRequest, to klaxonv1alpha1.IncidentState) commandAnswer {
	name, _, a, ok := sc.target(ctx, req)
	if !ok {
		return a
	}
	ns := req.channel.Namespace
	inc := &klaxonv1alpha1.Incident{}
	if err := sc.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		if apierrors.IsNotFound(err) {
			return ephemeral(fmt.Sprintf("There is no incident %.253s in namespace %s. Nothing was changed.", name, ns))
		}
		return writeFailed("read the incident", err)
	}
	if !sc.moveRequests.Allow() {
		return ephemeral("Klaxon is answering many requests right now. Nothing was changed; try again in a few seconds.")
	}
	waits, done := awaitsAcknowledgement, "acknowledged"
	if to == klaxonv1alpha1.StateResolved {
		waits, done = awaitsResolution, "resolved"
	}
	c := acklink.Claims{Namespace: ns, Name: name, UID: string(inc.UID), Episode: inc.Status.Episode, Responder: req.responder}
	read, moved, failed, ok := sc.moveIncident(ctx, c, req.ip, to, waits)
	switch {
	case !ok:
		return commandAnswer{code: http.StatusOK, text: slackFailure(failed), cause: failed.cause}
	case !moved:
		msg := alreadyMoved(read)
		if to == klaxonv1alpha1.StateResolved {
			msg = "This incident is already " + string(read.Spec.State) + "."
		}
		return ephemeral(msg + " Nothing was changed.")
	}
	return commandAnswer{code: http.StatusOK, inChannel: true, text: fmt.Sprintf("%s %s incident %s/%s: %s", req.responder, done, ns, name, inc.Spec.Title)}
}

// update appends a stakeholder update to the command's incident, authored
// by the caller's Responder, as `kubectl klaxon update` does. The entry's
// time is the request's, so a replay makes the very same entry, which is
// then found and not added again.
func (sc *slackCommands) update(ctx context.Context, req *commandRequest) commandAnswer {
	name, msg, a, ok := sc.target(ctx, req)
	if !ok {
		return a
	}
	ns := req.channel.Namespace
	if n := len([]rune(msg)); n > maxUpdateChars {
		return ephemeral(fmt.Sprintf("The update is %d characters long; an update holds at most %d. Nothing was changed.", n, maxUpdateChars))
	}
	entry := klaxonv1alpha1.StakeholderUpdate{Time: metav1.NewTime(req.at.UTC()), Author: req.responder, Message: msg}
	// Another spec change fails the patch's test: decide again from a
	// fresh read, a few times.
	for range maxUpdateTries {
		a, done := sc.appendUpdate(ctx, ns, name, entry)
		if done {
			return a
		}
	}
	return ephemeral("The incident kept changing while the update was posted. Nothing was changed; send it again.")
}

// maxUpdateTries bounds the reads an update is decided on.
const maxUpdateTries = 3

// appendUpdate adds entry to the incident's spec.updates unless it is
// there; done is false when the incident changed since it was read.
func (sc *slackCommands) appendUpdate(ctx context.Context, ns, name string, entry klaxonv1alpha1.StakeholderUpdate) (a commandAnswer, done bool) {
	inc := &klaxonv1alpha1.Incident{}
	// The cache may not hold an update made a moment ago: read from the
	// API server, so a replay finds it.
	if err := sc.apiReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		if apierrors.IsNotFound(err) {
			return ephemeral(fmt.Sprintf("There is no incident %.253s in namespace %s. Nothing was changed.", name, ns)), true
		}
		return writeFailed("read the incident", err), true
	}
	for _, u := range inc.Spec.Updates {
		if u.Time.Equal(&entry.Time) && u.Author == entry.Author && u.Message == entry.Message {
			return ephemeral("This update is already posted. Nothing was changed."), true
		}
	}
	if len(inc.Spec.Updates) >= maxUpdates {
		return ephemeral(fmt.Sprintf("Incident %s already has %d updates, the most it holds. Nothing was changed.", name, maxUpdates)), true
	}
	// The patch tests the spec's generation as read, so an update posted
	// meanwhile (perhaps this one, replayed) is not added beside it. Not
	// the resourceVersion: status writes, which come all the time, do not
	// change the generation.
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": inc.Generation},
		{"op": "add", "path": "/spec/updates/-", "value": entry},
	}
	if len(inc.Spec.Updates) == 0 {
		ops[1] = map[string]any{"op": "add", "path": "/spec/updates", "value": []klaxonv1alpha1.StakeholderUpdate{entry}}
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return writeFailed("encode the update", err), true
	}
	if err = sc.client.Patch(ctx, inc, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		switch {
		case apierrors.IsInvalid(err) && hasCauses(err):
			// The update itself breaks a rule of the CRD.
			return ephemeral("Kubernetes refused the update: " + bounded.Runes(apiMessage(err), maxRefusalChars)), true
		case apierrors.IsConflict(err) || apierrors.IsInvalid(err) || isUnprocessable(err):
			// A failed test of the patch: the spec changed since it was read.
			return commandAnswer{}, false
		}
		return writeFailed("post the update", err), true
	}
	return commandAnswer{code: http.StatusOK, inChannel: true,
		text: fmt.Sprintf("%s posted an update to incident %s/%s: %s", entry.Author, ns, name, entry.Message)}, true
}

// oncall says who is on call now: the schedule named, or each of the
// namespace's.
func (sc *slackCommands) oncall(ctx context.Context, req *commandRequest) commandAnswer {
	ns := req.channel.Namespace
	list := &klaxonv1alpha1.OnCallScheduleList{}
	if err := sc.client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return writeFailed("list the on-call schedules", err)
	}
	var lines []string
	for i := range list.Items {
		s := &list.Items[i]
		if len(req.cmd.args) == 1 && s.Name != req.cmd.args[0] {
			continue
		}
		who := strings.Join(s.Status.OnCall, ", ")
		if who == "" {
			who = "nobody"
		}
		lines = append(lines, s.Name+": "+who)
	}
	if len(lines) == 0 {
		if len(req.cmd.args) == 1 {
			return ephemeral(fmt.Sprintf("There is no OnCallSchedule %.253s in namespace %s.", req.cmd.args[0], ns))
		}
		return ephemeral("Namespace " + ns + " has no OnCallSchedule.")
	}
	slices.Sort(lines)
	return ephemeral("On call now in " + ns + ":\n" + strings.Join(lines, "\n"))
}

// cover creates an OnCallOverride that puts <to> on call in place of
// <from>, from now for --for, as `kubectl klaxon override replace` does.
// Its name comes from the request's key, so a replay creates nothing.
func (sc *slackCommands) cover(ctx context.Context, req *commandRequest) commandAnswer {
	ns := req.channel.Namespace
	name := req.cmd.schedule
	if name == "" {
		list := &klaxonv1alpha1.OnCallScheduleList{}
		if err := sc.client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return writeFailed("list the on-call schedules", err)
		}
		if len(list.Items) != 1 {
			return ephemeral(fmt.Sprintf("Namespace %s has %d OnCallSchedules: name one with --schedule. Nothing was changed.", ns, len(list.Items)))
		}
		name = list.Items[0].Name
	}
	start := sc.clock.Now().Truncate(time.Second)
	from, to := req.cmd.args[0], req.cmd.args[1]
	o := &klaxonv1alpha1.OnCallOverride{
		ObjectMeta: metav1.ObjectMeta{Name: bounded.Bytes(name, 200) + "-cover-" + req.key[:10], Namespace: ns},
		Spec: klaxonv1alpha1.OnCallOverrideSpec{
			ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: name},
			Start:       metav1.NewTime(start),
			End:         metav1.NewTime(start.Add(req.cmd.coverFor)),
			Replace:     &klaxonv1alpha1.OverrideReplacement{User: from, With: to},
		},
	}
	err := sc.client.Create(ctx, o)
	switch {
	case apierrors.IsAlreadyExists(err):
		return ephemeral("This cover is already made. Nothing was changed.")
	case apierrors.IsForbidden(err):
		return commandAnswer{code: http.StatusOK, cause: err,
			text: "Klaxon's service account may not create OnCallOverrides in namespace " + ns + ", so it cannot make covers. Nothing was changed."}
	case apierrors.IsInvalid(err):
		return ephemeral("Kubernetes refused the cover: " + bounded.Runes(apiMessage(err), maxRefusalChars))
	case err != nil:
		return writeFailed("create the cover", err)
	}
	return commandAnswer{code: http.StatusOK, inChannel: true,
		text: fmt.Sprintf("%s made %s cover %s on %s for %s (OnCallOverride %s/%s)", req.responder, to, from, name, req.cmd.coverFor, ns, o.Name)}
}

func ephemeral(text string) commandAnswer {
	return commandAnswer{code: http.StatusOK, text: text}
}

// writeFailed answers a command whose API request failed: the caller is
// told in Slack, the cause is logged.
func writeFailed(doing string, err error) commandAnswer {
	return commandAnswer{code: http.StatusOK, text: "Klaxon could not " + doing + ": the Kubernetes API server failed. Try again in a moment.",
		cause: fmt.Errorf("could not %s: %w", doing, err)}
}

// apiMessage is the API server's message of a refusal, its first cause
// when it lists them.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if d := status.Status().Details; d != nil && len(d.Causes) > 0 {
			return d.Causes[0].Message
		}
		return status.Status().Message
	}
	return err.Error()
}

// hasCauses reports whether the API server's refusal names the fields at
// fault, as a validation error does and a failed patch test does not.
func hasCauses(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Details != nil && len(status.Status().Details.Causes) > 0
}

// isUnprocessable reports a JSON patch whose test failed, answered 422.
func isUnprocessable(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code == http.StatusUnprocessableEntity
}
