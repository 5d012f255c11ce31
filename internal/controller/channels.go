package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/alertmanager"
	"github.com/klaxon-dev/klaxon/internal/secretref"
)

// A channel's Secrets are read with GETs, not watched (see
// AlertRouteReconciler for why), so a channel checks them again after
// credentialsRecheckWaiting while it cannot send and after
// credentialsRecheckReady once it can.
const (
	credentialsRecheckWaiting = 10 * time.Second
	credentialsRecheckReady   = 5 * time.Minute
	// secretReadTimeout bounds one GET of a channel's Secret.
	secretReadTimeout = 10 * time.Second
)

// channelLoader turns a NotificationChannel into a notify.Sender.
type channelLoader struct {
	// secretReader reads Secrets uncached: the operator may read them only
	// in the namespaces that bind SecretReaderClusterRole.
	secretReader client.Reader
	// publicURL is Klaxon's external URL, for the links Alertmanager
	// receivers put in messages (empty leaves them out), and where Twilio
	// calls back (a twilio channel needs it).
	publicURL string
	// buttonKeys seal the values of Slack buttons; nil leaves buttons out.
	buttonKeys *acklink.Keyring
	// egress decides where the senders connect; nil applies the built-in
	// refusals only.
	egress *egress.Policy
}

// load reads the channel's Secrets and builds its sender. A channel that
// cannot send yields a *problem and no error: waiting for a Secret that is
// missing, forbidden, not marked with LabelChannelSecret or empty under its
// key (rechecked after credentialsRecheckWaiting), or stalled by settings
// the sender refuses (ReasonInvalidChannel). An error is only for an API
// failure worth a retry.
func (l *channelLoader) load(ctx context.Context, ch *klaxonv1alpha1.NotificationChannel) (notify.Sender, *problem, error) {
	spec := &ch.Spec
	switch {
	case spec.Email != nil:
		return l.loadEmail(ctx, ch.Namespace, spec.Email)
	case spec.Slack != nil:
		return l.loadSlack(ctx, ch.Namespace, ch.Name, spec.Slack)
	case spec.Webhook != nil:
		return l.loadWebhook(ctx, ch.Namespace, spec.Webhook)
	case spec.Alertmanager != nil:
		return l.loadAlertmanager(ctx, ch.Namespace, spec.Alertmanager)
	case spec.Twilio != nil:
		return l.loadTwilio(ctx, ch.Namespace, ch.Name, spec.Twilio)
	case spec.Ntfy != nil:
		return l.loadNtfy(ctx, ch.Namespace, spec.Ntfy)
	}
	// The CRD requires exactly one kind; this is a version that knows none
	// of those set.
	return nil, stalledBy(klaxonv1alpha1.ReasonInvalidChannel, "Set one of spec.email, spec.slack, spec.webhook, spec.alertmanager, spec.twilio or spec.ntfy"), nil
}

func (l *channelLoader) loadEmail(ctx context.Context, namespace string, email *klaxonv1alpha1.EmailChannel) (notify.Sender, *problem, error) {
	cfg := notify.EmailConfig{
		Smarthost: email.Smarthost, From: email.From, Username: email.Username,
		// Sending in clear text is opt-in: unset is what the CRD defaults.
		RequireTLS: email.RequireTLS == nil || *email.RequireTLS,
		Egress:     l.egress,
	}
	if ref := email.AuthSecretRef; ref != nil {
		password, p, err := l.secretValue(ctx, namespace, "spec.email.authSecretRef", *ref, true)
		if p != nil || err != nil {
			return nil, p, err
		}
		cfg.Password = string(password)
	}
	return built(notify.NewEmail(cfg))
}

func (l *channelLoader) loadSlack(ctx context.Context, namespace, name string, slack *klaxonv1alpha1.SlackChannel) (notify.Sender, *problem, error) {
	token, p, err := l.secretValue(ctx, namespace, "spec.slack.tokenSecretRef", slack.TokenSecretRef, true)
	if p != nil || err != nil {
		return nil, p, err
	}
	// The signing secret verifies button presses (the receiver reads it
	// itself); checking it here tells the author before a press fails.
	if ref := slack.SigningSecretRef; ref != nil {
		if _, p, err = l.secretValue(ctx, namespace, "spec.slack.signingSecretRef", *ref, true); p != nil || err != nil {
			return nil, p, err
		}
	}
	apiURL := slack.APIURL
	if ref := slack.APIURLSecretRef; ref != nil {
		apiURL, p, err = l.secretURL(ctx, namespace, "spec.slack.apiURLSecretRef", *ref)
		if p != nil || err != nil {
			return nil, p, err
		}
	}
	if apiURL == "" {
		apiURL = notify.DefaultSlackAPIURL
	}
	cfg := notify.SlackConfig{APIURL: apiURL, Token: string(token), Egress: l.egress}
	// Buttons only where presses can be verified: without a signing
	// secret every press would be refused.
	if slack.SigningSecretRef != nil && l.buttonKeys != nil {
		cfg.Namespace, cfg.ChannelName = namespace, name
		keys := l.buttonKeys
		cfg.Seal = func(v []byte) string {
			signer, ok := keys.Signer()
			if !ok {
				return ""
			}
			return signer.Seal(notify.SlackButtonPurpose, v)
		}
	}
	return built(notify.NewSlack(cfg))
}

func (l *channelLoader) loadWebhook(ctx context.Context, namespace string, webhook *klaxonv1alpha1.WebhookChannel) (notify.Sender, *problem, error) {
	cfg := notify.WebhookConfig{URL: webhook.URL, Egress: l.egress}
	if ref := webhook.URLSecretRef; ref != nil {
		u, p, err := l.secretURL(ctx, namespace, "spec.webhook.urlSecretRef", *ref)
		if p != nil || err != nil {
			return nil, p, err
		}
		cfg.URL = u
	}
	if ref := webhook.TokenSecretRef; ref != nil {
		token, p, err := l.secretValue(ctx, namespace, "spec.webhook.tokenSecretRef", *ref, true)
		if p != nil || err != nil {
			return nil, p, err
		}
		cfg.Token = string(token)
	}
	return built(notify.NewWebhook(cfg))
}

func (l *channelLoader) loadAlertmanager(ctx context.Context, namespace string, am *klaxonv1alpha1.AlertmanagerChannel) (notify.Sender, *problem, error) {
	// YAML is passed as stored: its whitespace is its structure.
	receiver, p, err := l.secretValue(ctx, namespace, "spec.alertmanager.receiverSecretRef", am.ReceiverSecretRef, false)
	if p != nil || err != nil {
		return nil, p, err
	}
	sender, err := alertmanager.New(alertmanager.Config{Receiver: receiver, ExternalURL: l.publicURL, Egress: l.egress})
	if err != nil {
		// The fix is in the Secret, not the channel: say where.
		return nil, stalledBy(klaxonv1alpha1.ReasonInvalidChannel, fmt.Sprintf("Secret %s, key %q: %s",
			am.ReceiverSecretRef.Name, am.ReceiverSecretRef.Key, err.Error())), nil
	}
	return sender, nil, nil
}

// built turns a sender constructor's refusal, a sentence about the
// channel's settings, into the problem that stalls the channel.
func built(sender notify.Sender, err error) (notify.Sender, *problem, error) {
	if err != nil {
		return nil, stalledBy(klaxonv1alpha1.ReasonInvalidChannel, err.Error()), nil
	}
	return sender, nil, nil
}

// secretValue reads the value under ref.Key of the Secret ref names, for
// the field that names it. The Secret must carry LabelChannelSecret=true:
// the operator sends what a channel names to a server of the channel
// author's choosing, and labelling a Secret takes write access to it. trim
// drops surrounding whitespace, which is never part of a token or password;
// a value that is empty (after trimming) is as good as missing.
func (l *channelLoader) secretValue(ctx context.Context, namespace, field string, ref klaxonv1alpha1.SecretKeyReference, trim bool) ([]byte, *problem, error) {
	// A reconcile must not hang on a slow API server.
	readCtx, cancel := context.WithTimeout(ctx, secretReadTimeout)
	defer cancel()
	value, err := secretref.Read(readCtx, l.secretReader, client.ObjectKey{Namespace: namespace, Name: ref.Name}, ref.Key, trim)
	switch {
	case apierrors.IsNotFound(err):
		return nil, waitingFor(klaxonv1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"%s: Secret %s not found in namespace %s: create it with the key %q, labelled %s=true",
			field, ref.Name, namespace, ref.Key, klaxonv1alpha1.LabelChannelSecret), credentialsRecheckWaiting), nil
	case apierrors.IsForbidden(err):
		return nil, waitingFor(klaxonv1alpha1.ReasonSecretForbidden, fmt.Sprintf(
			"%s: the operator may not read Secret %s in namespace %s: bind the ClusterRole %s to the operator's service account with a RoleBinding in this namespace",
			field, ref.Name, namespace, SecretReaderClusterRole), credentialsRecheckWaiting), nil
	case errors.Is(err, secretref.ErrNotMarked):
		return nil, waitingFor(klaxonv1alpha1.ReasonSecretNotMarked, fmt.Sprintf(
			"%s: Secret %s lacks the label %s=true that marks it as channel credentials; the operator sends no other Secret: label it if its key %q is meant for this channel",
			field, ref.Name, klaxonv1alpha1.LabelChannelSecret, ref.Key), credentialsRecheckWaiting), nil
	case errors.Is(err, secretref.ErrEmpty):
		return nil, waitingFor(klaxonv1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"%s: Secret %s has no key %q, or it holds only whitespace: set the key", field, ref.Name, ref.Key), credentialsRecheckWaiting), nil
	case err != nil:
		return nil, nil, err
	}
	return value, nil, nil
}

// secretURL reads an endpoint URL from the Secret key ref names and checks
// it as the CRD checks an inline one. Its problems name the Secret and key,
// never the value: a URL kept in a Secret carries a credential.
func (l *channelLoader) secretURL(ctx context.Context, namespace, field string, ref klaxonv1alpha1.SecretKeyReference) (string, *problem, error) {
	value, p, err := l.secretValue(ctx, namespace, field, ref, true)
	if p != nil || err != nil {
		return "", p, err
	}
	u, ok := absoluteHTTPURL(string(value))
	if !ok {
		return "", stalledBy(klaxonv1alpha1.ReasonInvalidChannel, fmt.Sprintf(
			"%s: Secret %s, key %q holds no absolute http or https URL: set the key to one", field, ref.Name, ref.Key)), nil
	}
	return u, nil, nil
}

// absoluteHTTPURL parses raw as an absolute http or https URL. It keeps
// url.Parse's error to itself: that quotes the URL.
func absoluteHTTPURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// describeChannel says how a channel sends, for its Ready condition. It
// names hosts, not whole URLs, which may carry credentials in their path
// or query.
func describeChannel(spec *klaxonv1alpha1.NotificationChannelSpec) string {
	switch {
	case spec.Email != nil:
		return "Sends email through " + spec.Email.Smarthost
	case spec.Slack != nil:
		if ref := spec.Slack.APIURLSecretRef; ref != nil {
			return fmt.Sprintf("Posts to Slack through the API URL in Secret %s, key %q", ref.Name, ref.Key)
		}
		if spec.Slack.APIURL == "" || spec.Slack.APIURL == notify.DefaultSlackAPIURL {
			return "Posts to Slack"
		}
		return "Posts to Slack through " + hostOf(spec.Slack.APIURL)
	case spec.Webhook != nil:
		// Not even the host of a URL kept in a Secret.
		if ref := spec.Webhook.URLSecretRef; ref != nil {
			return fmt.Sprintf("Posts to the webhook at the URL in Secret %s, key %q", ref.Name, ref.Key)
		}
		return "Posts to the webhook at " + hostOf(spec.Webhook.URL)
	case spec.Alertmanager != nil:
		return "Sends through an Alertmanager receiver"
	case spec.Twilio != nil:
		return describeTwilio(spec.Twilio)
	case spec.Ntfy != nil:
		return "Pushes to ntfy at " + hostOf(spec.Ntfy.URL)
	}
	return "Sends"
}

// hostOf returns the host of a URL the CRD has checked, or "" for one it
// did not.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
