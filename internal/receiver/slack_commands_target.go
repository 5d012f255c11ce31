package receiver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// target is the incident an ack, resolve or update acts on, and the text of
// an update. ok is false, with the answer to give, when the command does
// not say which incident and is not typed in an incident's own channel.
func (sc *slackCommands) target(ctx context.Context, req *commandRequest) (name, text string, a commandAnswer, ok bool) {
	var inChannel []string
	if needsChannelIncident(req.cmd) {
		var err error
		if inChannel, err = sc.channelIncidentNames(ctx, req); err != nil {
			return "", "", writeFailed("list the incidents", err), false
		}
	}
	name, text, why := commandTarget(req.cmd, inChannel)
	if why != "" {
		return "", "", ephemeral(why), false
	}
	return name, text, commandAnswer{}, true
}

// channelIncidentNames are the incidents of the caller's namespace whose own
// Slack channel the command was typed in, read from the cache.
func (sc *slackCommands) channelIncidentNames(ctx context.Context, req *commandRequest) ([]string, error) {
	channelID := req.form.Get("channel_id")
	if !slackID(channelID) {
		return nil, nil
	}
	// One namespace's incidents: the cache holds them all already.
	list := &klaxonv1alpha1.IncidentList{}
	if err := sc.client.List(ctx, list, client.InNamespace(req.channel.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the incidents of namespace %s: %w", req.channel.Namespace, err)
	}
	return channelIncidents(list.Items, channelID, req.apps), nil
}

// needsChannelIncident says whether the command's incident may be the one
// whose channel it is typed in: it names none, or (an update) its first
// word may be the name or the start of the text.
func needsChannelIncident(c slashCommand) bool {
	if c.incident != "" {
		return false
	}
	switch c.verb {
	case "ack", "resolve":
		return len(c.args) == 0
	case "update":
		return true
	}
	return false
}

// channelIncidents are the names, sorted, of the incidents whose own Slack
// channel is channelID. A channel ID means something only in the workspace
// of the app that made it, so the channel must be kept by one of apps: the
// NotificationChannels whose signing secret verified the command.
func channelIncidents(incidents []klaxonv1alpha1.Incident, channelID string, apps []string) []string {
	var names []string
	for i := range incidents {
		ch := incidents[i].Status.SlackChannel
		if ch != nil && ch.ID != "" && ch.ID == channelID && slices.Contains(apps, ch.NotificationChannel) {
			names = append(names, incidents[i].Name)
		}
	}
	slices.Sort(names)
	return names
}

// commandTarget is the incident an ack, resolve or update acts on, and the
// text of an update: the incident --incident names; else, typed in an
// incident's own channel (inChannel, normally one), that incident, unless
// an ack or resolve names another; else the first word. why, when not
// empty, tells the caller why there is none.
func commandTarget(c slashCommand, inChannel []string) (name, text, why string) {
	const unchanged = " Nothing was changed."
	several := func() string {
		return "Several incidents (" + strings.Join(inChannel, ", ") + ") have this channel as their own: name one with --incident <name>." + unchanged
	}
	switch {
	case c.incident != "":
		name, text = c.incident, c.text(0)
	case c.verb != "update" && len(c.args) == 1:
		name = c.args[0]
	case len(inChannel) > 1:
		return "", "", several()
	case len(inChannel) == 1:
		name, text = inChannel[0], c.text(0)
	case c.verb != "update":
		return "", "", fmt.Sprintf("Name the incident: /klaxon %s <incident>, or type the command in the incident's own channel.%s", c.verb, unchanged)
	case len(c.args) < 2:
		return "", "", "Name the incident: /klaxon update <incident> <text>, or type the command in the incident's own channel." + unchanged
	default:
		name, text = c.args[0], c.text(1)
	}
	text = strings.TrimSpace(text)
	if c.verb == "update" && text == "" {
		return "", "", "The update has no text." + unchanged
	}
	return name, text, ""
}
