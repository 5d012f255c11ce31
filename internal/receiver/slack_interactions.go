package receiver

import (
	"context"
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
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Slack's interactivity requests: a form with a JSON payload, signed with
// the app's signing secret.
const (
	// maxSlackBodyBytes bounds a request body; a block_actions payload
	// echoes the message, which Klaxon keeps well below this.
	maxSlackBodyBytes = 64 << 10
	// slackMaxSkew is how far the request's timestamp may be from now:
	// Slack's own advice against replays.
	slackMaxSkew = 5 * time.Minute
	// slackReplyTimeout bounds the chat.update or chat.postEphemeral made
	// after Slack got its answer.
	slackReplyTimeout = 15 * time.Second
	// slackAnswerTimeout bounds the API requests made before answering:
	// Slack shows the presser an error when the answer takes over 3s.
	slackAnswerTimeout = 2500 * time.Millisecond
	// maxSlackIDBytes bounds a Slack ID or timestamp in a payload.
	maxSlackIDBytes = 255
)

// slackInteraction is the part of a block_actions payload Klaxon reads.
type slackInteraction struct {
	Type string `json:"type"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Actions []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
	} `json:"container"`
	Message struct {
		Blocks []json.RawMessage `json:"blocks"`
	} `json:"message"`
}

// slackAnswer is the answer to one button press.
type slackAnswer struct {
	code int
	// text is what the presser is told; with 200 it is sent as an
	// ephemeral message too (Slack ignores the body of an answer to
	// block_actions).
	text       string
	retryAfter int
	// cause is logged, never shown.
	cause error
	// after runs once Slack has its answer: it edits the page, or tells
	// the presser why nothing changed.
	after func(context.Context) error
	// moved is logged: the incident and the responder that moved it.
	incident  client.ObjectKey
	responder string
}

// slackInteractions serves POST /slack/interactions: a press of a page's
// Acknowledge or Resolve button, which Slack sends signed with the app's
// signing secret.
type slackInteractions struct {
	*Server
}

// ServeHTTP answers a press before editing the page so that Slack gets its
// answer within 3 seconds; the edit (chat.update) follows, bounded by
// slackReplyTimeout.
func (sl *slackInteractions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := sl.press(w, r)
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	if a.code == http.StatusOK {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(a.code)
		_ = json.NewEncoder(w).Encode(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": a.text})
	} else {
		writeText(w, a.code, a.text)
	}
	switch {
	case a.code >= http.StatusInternalServerError:
		sl.log.Error(a.cause, "Answered a Slack button press with an error", "code", a.code)
	case a.responder != "":
		sl.log.Info("Answered a Slack button press", "incident", klog.KRef(a.incident.Namespace, a.incident.Name),
			"responder", a.responder, "outcome", a.text, "error", a.cause)
	default:
		// Whatever an unverified caller sent is logged only at V(1).
		sl.log.V(1).Info("Answered a Slack button press", "code", a.code, "message", a.text, "error", a.cause)
	}
	if a.after == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), slackReplyTimeout)
		defer cancel()
		if err := a.after(ctx); err != nil {
			sl.log.Error(err, "Could not update the Slack message after a button press",
				"incident", klog.KRef(a.incident.Namespace, a.incident.Name))
		}
	}()
}

// press verifies the press and acts on it.
func (sl *slackInteractions) press(w http.ResponseWriter, r *http.Request) slackAnswer {
	q, rf := sl.readSlackRequest(w, r, maxSlackBodyBytes)
	if rf != nil {
		return refusedPress(*rf)
	}
	signer, ok := sl.opts.AckKeys.Signer()
	if !ok {
		return slackAnswer{code: http.StatusServiceUnavailable, text: "Klaxon is starting; press again in a moment", retryAfter: 5,
			cause: errors.New("the key that seals button values is not loaded")}
	}
	in, v, err := parseSlackPress(q.body, func(value string) ([]byte, error) { return signer.Open(notify.SlackButtonPurpose, value) })
	if err != nil {
		return refusedPress(q.refuse(slackRefusal{code: http.StatusBadRequest, text: "Not a press of a Klaxon button", cause: err}))
	}
	ctx, cancel := context.WithTimeout(r.Context(), min(sl.opts.APITimeout, slackAnswerTimeout))
	defer cancel()
	verified, _, rf := q.verify(ctx, func(ctx context.Context) ([]*klaxonv1alpha1.NotificationChannel, error) {
		return sl.buttonChannel(ctx, v)
	})
	if rf != nil {
		return refusedPress(*rf)
	}
	ch := verified[0]
	// Verified: from here on the request is Slack's, and the presser is
	// told about every outcome.
	reply, err := sl.replier(ch, in)
	if err != nil {
		return slackAnswer{code: http.StatusInternalServerError, text: "Klaxon cannot talk to Slack with this channel's settings", cause: err}
	}
	ref := client.ObjectKey{Namespace: v.Namespace, Name: v.Name}
	responder, why, err := sl.responder(ctx, v, in.User.ID)
	switch {
	case err != nil:
		return reply.tell(ref, "", "Klaxon could not reach the Kubernetes API server. Nothing was changed; try again in a moment.", err)
	case why != "":
		return reply.tell(ref, "", why, nil)
	}
	c := acklink.Claims{Namespace: v.Namespace, Name: v.Name, UID: v.UID, Episode: v.Episode, Responder: responder}
	// A button found no longer valid is answered as before, without
	// spending the budget of moves.
	if gone, known := sl.goneAnswers.lookup(c); known {
		return reply.tell(ref, responder, slackFailure(sl.stale(c, q.ip, gone)), nil)
	}
	if !sl.moveRequests.Allow() {
		return reply.tell(ref, responder, "Klaxon is answering many requests right now. Nothing was changed; try again in a few seconds.", nil)
	}
	to, waits, done := klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement, "Acknowledged by "
	if in.Actions[0].ActionID == notify.SlackActionResolve {
		to, waits, done = klaxonv1alpha1.StateResolved, awaitsResolution, "Resolved by "
	}
	inc, moved, failed, ok := sl.moveIncident(ctx, c, q.ip, to, waits)
	switch {
	case !ok:
		return reply.tell(ref, responder, slackFailure(failed), failed.cause)
	case !moved:
		msg := alreadyMoved(inc)
		if to == klaxonv1alpha1.StateResolved {
			msg = "This incident is already " + string(inc.Spec.State) + "."
		}
		return reply.tell(ref, responder, msg+" Nothing was changed.", nil)
	}
	return reply.edit(ref, responder, done+responder)
}

// parseSlackPress reads the form Slack posts: payload, a block_actions
// interaction whose first action is a press of one of Klaxon's buttons.
//
// The button's value names the incident and the channel whose signing
// secret verifies the request, so it must be Klaxon's own: open unseals
// it, and refuses any value Klaxon did not seal. Without that, whoever
// holds one channel's signing secret could name another namespace's.
func parseSlackPress(body []byte, open func(string) ([]byte, error)) (*slackInteraction, notify.SlackButtonValue, error) {
	var v notify.SlackButtonValue
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, v, fmt.Errorf("the body is not a form: %w", err)
	}
	in := &slackInteraction{}
	if err = json.Unmarshal([]byte(form.Get("payload")), in); err != nil {
		return nil, v, fmt.Errorf("the payload is not JSON: %w", err)
	}
	switch {
	case in.Type != "block_actions":
		return nil, v, fmt.Errorf("the payload is of type %.40q, not block_actions", in.Type)
	case len(in.Actions) == 0:
		return nil, v, errors.New("the payload has no action")
	case in.Actions[0].ActionID != notify.SlackActionAcknowledge && in.Actions[0].ActionID != notify.SlackActionResolve:
		return nil, v, fmt.Errorf("the action %.40q is not Klaxon's", in.Actions[0].ActionID)
	case !slackID(in.User.ID):
		return nil, v, errors.New("the payload names no user")
	}
	value, err := open(in.Actions[0].Value)
	if err != nil {
		return nil, v, fmt.Errorf("the button value is not one Klaxon sealed: %w", err)
	}
	if v, err = notify.ParseSlackButtonValue(string(value)); err != nil {
		return nil, v, err
	}
	return in, v, nil
}

// buttonChannel is the NotificationChannel the button names, whose
// signing secret must verify the press.
func (sl *slackInteractions) buttonChannel(ctx context.Context, v notify.SlackButtonValue) ([]*klaxonv1alpha1.NotificationChannel, error) {
	if !sl.watches(v.Namespace) {
		return nil, fmt.Errorf("namespace %s is not watched (--watch-namespaces)", v.Namespace)
	}
	ch := &klaxonv1alpha1.NotificationChannel{}
	err := sl.client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: v.Channel}, ch)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("NotificationChannel %s/%s does not exist", v.Namespace, v.Channel)
	case err != nil:
		return nil, apiTrouble{fmt.Errorf("reading NotificationChannel %s/%s: %w", v.Namespace, v.Channel, err)}
	case ch.Spec.Slack == nil || ch.Spec.Slack.SigningSecretRef == nil:
		return nil, fmt.Errorf("NotificationChannel %s/%s has no spec.slack.signingSecretRef", v.Namespace, v.Channel)
	}
	return []*klaxonv1alpha1.NotificationChannel{ch}, nil
}

// refusedPress answers a press that is not taken.
func refusedPress(rf slackRefusal) slackAnswer {
	return slackAnswer{code: rf.code, text: rf.text, retryAfter: rf.retryAfter, cause: rf.cause}
}

// responder maps the Slack user to the one Responder of the
// incident's namespace with a contact on this channel at that user ID. why
// says, to the presser, why there is none.
func (sl *slackInteractions) responder(ctx context.Context, v notify.SlackButtonValue, user string) (name, why string, err error) {
	names, err := sl.slackResponders(ctx, v.Namespace, v.Channel, user)
	if err != nil {
		return "", "", err
	}
	switch len(names) {
	case 0:
		return "", "You are not a responder of this incident: no Responder in namespace " + v.Namespace +
			" has your Slack user " + user + " as a contact on channel " + v.Channel + ". Nothing was changed.", nil
	case 1:
		return names[0], "", nil
	}
	return "", severalResponders(names), nil
}

// slackResponders are the Responders of the namespace, in name order, with
// a contact on the channel at the Slack user ID.
func (s *Server) slackResponders(ctx context.Context, namespace, channel, user string) ([]string, error) {
	list := &klaxonv1alpha1.ResponderList{}
	if err := s.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the Responders of namespace %s: %w", namespace, err)
	}
	var names []string
	for i := range list.Items {
		for _, c := range list.Items[i].Spec.Contacts {
			if c.Channel == channel && c.Address == user {
				names = append(names, list.Items[i].Name)
				break
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// severalResponders says why a Slack user who is the contact of several
// Responders cannot act.
func severalResponders(names []string) string {
	return "Your Slack user is the contact of several Responders (" + strings.Join(names, ", ") +
		"), so Klaxon cannot tell who you are. Nothing was changed."
}

// slackFailure is what the presser is told of a move that failed.
func slackFailure(a ackAnswer) string {
	msg := a.view.Message
	// The answers were written for acknowledge links.
	msg = strings.ReplaceAll(msg, "this link was made for", "this page was sent for")
	msg = strings.ReplaceAll(msg, "This link is for", "This page is for")
	msg = strings.ReplaceAll(msg, "Use the link of the latest page.", "Use the buttons of the latest page.")
	msg = strings.ReplaceAll(msg, "Too many links from your address are", "Too many presses are")
	msg = strings.ReplaceAll(msg, "open the link from the latest page.", "use the buttons of the latest page.")
	return msg
}

// slackReplier edits the page a button was pressed on, or tells the
// presser why nothing changed, with the channel's bot token.
type slackReplier struct {
	s       *Server
	channel *klaxonv1alpha1.NotificationChannel
	in      *slackInteraction
}

func (sl *slackInteractions) replier(ch *klaxonv1alpha1.NotificationChannel, in *slackInteraction) (*slackReplier, error) {
	if !slackID(in.Container.ChannelID) {
		return nil, errors.New("the payload names no Slack channel in its container")
	}
	return &slackReplier{s: sl.Server, channel: ch, in: in}, nil
}

// sender builds the channel's Slack client, reading its token as the
// signing secret was read.
func (r *slackReplier) sender(ctx context.Context) (*notify.Slack, error) {
	spec := r.channel.Spec.Slack
	token, err := r.s.channelSecret(ctx, client.ObjectKey{Namespace: r.channel.Namespace, Name: spec.TokenSecretRef.Name}, spec.TokenSecretRef.Key, false)
	if err != nil {
		return nil, fmt.Errorf("the bot token of NotificationChannel %s/%s: %w", r.channel.Namespace, r.channel.Name, err)
	}
	apiURL := spec.APIURL
	if ref := spec.APIURLSecretRef; ref != nil {
		u, err := r.s.channelSecret(ctx, client.ObjectKey{Namespace: r.channel.Namespace, Name: ref.Name}, ref.Key, false)
		if err != nil {
			return nil, fmt.Errorf("the Slack API URL of NotificationChannel %s/%s: %w", r.channel.Namespace, r.channel.Name, err)
		}
		apiURL = string(u)
	}
	return notify.NewSlackClient(notify.SlackConfig{APIURL: apiURL, Token: string(token), Egress: r.s.opts.Egress})
}

// edit answers a press that moved the incident, then edits the page to
// say so, without its buttons.
func (r *slackReplier) edit(inc client.ObjectKey, responder, text string) slackAnswer {
	channel, ts, blocks := r.in.Container.ChannelID, r.in.Container.MessageTS, r.in.Message.Blocks
	return slackAnswer{code: http.StatusOK, text: text, incident: inc, responder: responder,
		after: func(ctx context.Context) error {
			if ts == "" {
				// An ephemeral message has no timestamp to edit.
				return nil
			}
			sender, err := r.sender(ctx)
			if err != nil {
				return err
			}
			return sender.Update(ctx, channel, ts, text, blocks)
		}}
}

// tell answers a press that changed nothing and tells the presser why, in
// a message only they see.
func (r *slackReplier) tell(inc client.ObjectKey, responder, text string, cause error) slackAnswer {
	channel, user := r.in.Container.ChannelID, r.in.User.ID
	return slackAnswer{code: http.StatusOK, text: text, cause: cause, incident: inc, responder: responder,
		after: func(ctx context.Context) error {
			sender, err := r.sender(ctx)
			if err != nil {
				return err
			}
			return sender.PostEphemeral(ctx, channel, user, text)
		}}
}

// slackID reports whether s can be a Slack ID: not empty, bounded, no
// spaces or control characters.
func slackID(s string) bool {
	return s != "" && len(s) <= maxSlackIDBytes && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
